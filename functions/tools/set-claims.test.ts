import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { authEmulator, TEST_PROJECT_ID } from "../src/test-support/auth-emulator.ts";

describe("tools/set-claims", function () {
  this.timeout(30_000);

  it("makes a user an admin on the paid tier, by email, and the next token carries it", async () => {
    const emulator = await authEmulator();
    const user = await emulator.createUser();
    const result = spawnSync(
      process.execPath,
      [fileURLToPath(new URL("./set-claims.ts", import.meta.url)), "--email", user.email, "--admin", "--tier", "paid"],
      {
        encoding: "utf8",
        env: {
          PATH: process.env.PATH ?? "",
          FIREBASE_PROJECT_ID: TEST_PROJECT_ID,
          FIREBASE_AUTH_EMULATOR_HOST: emulator.host,
        },
      },
    );
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /"admin":true,"tier":"paid"/);
    const token = await emulator.signIn(user);
    const claims = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as Record<
      string,
      unknown
    >;
    assert.equal(claims.admin, true);
    assert.equal(claims.tier, "paid");
  });
});
