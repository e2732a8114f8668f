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
      [
        fileURLToPath(new URL("./set-claims.ts", import.meta.url)),
        "--email",
        user.email,
        "--admin",
        "--tier",
        "paid",
        "--budget-usd",
        "12.5",
      ],
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
    assert.match(result.stdout, /"admin":true,"tier":"paid","budget_usd":12.5/);
    const token = await emulator.signIn(user);
    const claims = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as Record<
      string,
      unknown
    >;
    assert.equal(claims.admin, true);
    assert.equal(claims.tier, "paid");
    assert.equal(claims.budget_usd, 12.5);
  });

  it("refuses a negative or absurd budget, changing nothing", async () => {
    const emulator = await authEmulator();
    const user = await emulator.createUser();
    for (const budget of ["-1", "1e9", "lots"]) {
      const result = spawnSync(
        process.execPath,
        [fileURLToPath(new URL("./set-claims.ts", import.meta.url)), "--email", user.email, "--budget-usd", budget],
        {
          encoding: "utf8",
          env: {
            PATH: process.env.PATH ?? "",
            FIREBASE_PROJECT_ID: TEST_PROJECT_ID,
            FIREBASE_AUTH_EMULATOR_HOST: emulator.host,
          },
        },
      );
      assert.equal(result.status, 2, budget);
      assert.match(result.stderr, /--budget-usd must be/);
    }
    const token = await emulator.signIn(user);
    const claims = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as Record<
      string,
      unknown
    >;
    assert.equal(claims.budget_usd, undefined);
  });
});
