import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { LocalStack } from "../scripts/lib/local-stack.ts";
import { localStack } from "./local-stack-fixture.ts";

/** The runbook's operator commands against the local stack. */
describe("operator commands (local stack)", function () {
  let stack: LocalStack;

  before(async function () {
    this.timeout(180_000);
    stack = await localStack();
  });

  const run = (script: string, environment: Record<string, string> = {}) => {
    const result = spawnSync(
      process.execPath,
      ["--disable-warning=ExperimentalWarning", fileURLToPath(new URL(`../scripts/${script}`, import.meta.url))],
      {
        encoding: "utf8",
        timeout: 60_000,
        env: {
          PATH: process.env.PATH ?? "",
          BACKEND_URL: stack.backendUrl,
          FIREBASE_AUTH_EMULATOR_HOST: stack.authEmulatorHost,
          FIREBASE_PROJECT_ID: stack.projectId,
          ...environment,
        },
      },
    );
    return { code: result.status, output: `${result.stdout}${result.stderr}` };
  };

  it("npm run cleanup sweeps through POST /admin/cleanup as an admin", () => {
    const { code, output } = run("cleanup.ts");
    assert.equal(code, 0, output);
    assert.match(
      output,
      /round 1: removed \{"requests":\d+,"deleted_chats":\d+,"aborted_streams":\d+,"stale_jobs":\d+,"media":\d+\}/,
    );
    assert.match(output, /^cleanup complete$/m);
  });

  it("POST /admin/cleanup refuses a non-admin token with 403", async () => {
    const { idToken } = await stack.auth.signUp(`ops-${Date.now()}@atelier.test`, "e2e-password");
    const response = await fetch(`${stack.backendUrl}/admin/cleanup`, {
      method: "POST",
      headers: { Authorization: `Bearer ${idToken}` },
    });
    assert.equal(response.status, 403);
  });
});
