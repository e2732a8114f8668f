import assert from "node:assert/strict";
import { localStack } from "./local-stack-fixture.ts";
import type { LocalStack } from "../scripts/lib/local-stack.ts";

/** The README's promises about the local stack, checked through the real emulators. */
describe("local stack (embedded mode, real emulators)", function () {
  let stack: LocalStack;
  let idToken: string;

  before(async function () {
    this.timeout(180_000);
    stack = await localStack();
    idToken = (await stack.auth.signUp(`e2e-${Date.now()}@atelier.test`, "e2e-password")).idToken;
  });

  it("answers /health with the contract's JSON in embedded mode", async () => {
    const response = await fetch(`${stack.backendUrl}/health`);
    assert.equal(response.status, 200);
    const body = (await response.json()) as { ok: boolean; mode: string; services: Record<string, boolean> };
    assert.equal(body.ok, true);
    assert.equal(body.mode, "embedded");
    assert.deepEqual(Object.keys(body.services).sort(), [
      "firestore",
      "gemini",
      "nano_banana",
      "storage",
      "tavily",
      "veo",
    ]);
    assert.ok(response.headers.get("x-request-id"));
  });

  it("accepts an ID token minted by the Auth emulator", async () => {
    const response = await fetch(`${stack.backendUrl}/account`, { headers: { Authorization: `Bearer ${idToken}` } });
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { ok: boolean }).ok, true);
  });

  it("refuses a forged token with 401 in the error envelope", async () => {
    const [header, payload] = idToken.split(".");
    const forged = `${header ?? ""}.${payload ?? ""}.Zm9yZ2VkLXNpZ25hdHVyZQ`;
    const response = await fetch(`${stack.backendUrl}/account`, { headers: { Authorization: `Bearer ${forged}` } });
    assert.equal(response.status, 401);
    const body = (await response.json()) as { ok: boolean; error: { code: string } };
    assert.equal(body.error.code, "unauthenticated");
  });

  it("answers an unknown route with the 404 envelope", async () => {
    const response = await fetch(`${stack.backendUrl}/no/such/route`);
    assert.equal(response.status, 404);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, "not_found");
  });
});
