import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
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

  it("npm run api-key bootstraps an admin key; with it a service key is minted, used, listed and revoked", async () => {
    const tool = (...args: string[]) => {
      const result = spawnSync(
        process.execPath,
        [
          "--disable-warning=ExperimentalWarning",
          fileURLToPath(new URL("../functions/tools/api-key.ts", import.meta.url)),
          ...args,
        ],
        {
          encoding: "utf8",
          timeout: 60_000,
          env: { PATH: process.env.PATH ?? "", EMBEDDED_DATA_DIR: stack.dataDirectory },
        },
      );
      assert.equal(result.status, 0, result.stderr);
      return result.stdout.trim();
    };
    const adminKey = tool("create", "--name", "bootstrap", "--scopes", "admin");
    const call = async (method: string, path: string, key: string, body?: unknown) => {
      const response = await fetch(`${stack.backendUrl}${path}`, {
        method,
        headers: { "X-API-Key": key, "Content-Type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, text: await response.text() };
    };

    const minted = await call("POST", "/admin/api-keys", adminKey, { name: "e2e service", scopes: ["chat"] });
    assert.equal(minted.status, 201, minted.text);
    const { key_id: keyId, api_key: serviceKey } = JSON.parse(minted.text) as { key_id: string; api_key: string };
    const answer = await call("POST", "/chat/stream", serviceKey, { message: "hello from a service" });
    assert.equal(answer.status, 200);
    assert.match(answer.text, /^event: done$/m);

    const listed = await call("GET", "/admin/api-keys", adminKey);
    assert.match(listed.text, new RegExp(keyId));
    assert.ok(!listed.text.includes(serviceKey.slice(12)), "no secret in the list");

    assert.equal((await call("DELETE", `/admin/api-keys/${keyId}`, adminKey)).status, 200);
    await sleep(1_000);
    assert.equal((await call("POST", "/chat/stream", serviceKey, { message: "again" })).status, 401);
    assert.equal((await call("GET", "/admin/api-keys", serviceKey)).status, 401);

    const bootstrapId = /^atk_(key-[0-9A-Za-z]{20})_/.exec(adminKey)?.[1] ?? assert.fail("not a key");
    assert.match(tool("revoke", bootstrapId), /"revoked_at"/);
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
