import assert from "node:assert/strict";
import { renameSync } from "node:fs";
import { join } from "node:path";
import { startApiServer, type ApiServer } from "../../test-support/api-server.ts";

describe("health routes", function () {
  this.timeout(60_000);
  let server: ApiServer;

  before(async () => {
    server = await startApiServer({ GEMINI_API_KEY: "AIzaFakeKeyForHealth123" });
  });
  after(async () => {
    await server.close();
  });

  it("GET /health reports the data backend, blob store, providers and the embedded mode", async () => {
    const response = await fetch(`${server.url}/health`);
    assert.equal(response.status, 200);
    const body = (await response.json()) as Record<string, unknown>;
    assert.deepEqual(body.services, {
      firestore: true,
      storage: true,
      gemini: true,
      nano_banana: false,
      veo: false,
      tavily: false,
    });
    assert.equal(body.ok, true);
    assert.equal(body.mode, "embedded");
    assert.deepEqual(body.providers, {
      gemini: "live",
      nano_banana: "simulated",
      veo: "simulated",
      tavily: "simulated",
      openai_compatible: "unconfigured",
    });
    assert.equal(typeof body.version, "string");
  });

  it("GET /healthz answers without touching dependencies", async () => {
    const response = await fetch(`${server.url}/healthz`);
    assert.deepEqual(await response.json(), { ok: true });
  });

  it("GET /readyz answers 503 with ok false while the blob store cannot be reached, then recovers", async () => {
    const objects = join(server.config.embeddedDataDirectory, "media", "objects");
    renameSync(objects, `${objects}.away`);
    try {
      const response = await fetch(`${server.url}/readyz`);
      assert.equal(response.status, 503);
      const body = (await response.json()) as { ok: boolean; services: Record<string, boolean> };
      assert.equal(body.ok, false);
      assert.equal(body.services.storage, false);
      assert.equal(body.services.firestore, true);
    } finally {
      renameSync(`${objects}.away`, objects);
    }
    assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
  });
});
