import assert from "node:assert/strict";
import { mediaPaths } from "../store/media-paths.ts";
import { TINY_PNG } from "../test-support/media-fixtures.ts";
import { startApiServer, type ApiServer } from "../test-support/api-server.ts";
import { authEmulator, type TestUser } from "../test-support/auth-emulator.ts";

/** `POST /uploads` and `DELETE /uploads/{id}` through the real `api` handler, with the daily limits small. */
describe("uploads", function () {
  this.timeout(30_000);
  let server: ApiServer;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;

  before(async () => {
    server = await startApiServer({
      UPLOAD_MAX_PER_DAY: "3",
      UPLOAD_MAX_BYTES_PER_DAY: String(TINY_PNG.length * 10),
      RATE_LIMIT_RPM: "6000",
      RATE_LIMIT_BURST: "1000",
    });
    const emulator = await authEmulator();
    [alice, bob, carol] = [await emulator.createUser(), await emulator.createUser(), await emulator.createUser()];
  });
  after(async () => {
    await server.close();
  });

  const call = async (who: TestUser, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${who.idToken}`, "Content-Type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as Record<string, unknown>,
    };
  };
  const upload = (who: TestUser, bytes = TINY_PNG) =>
    call(who, "POST", "/uploads", { data: bytes.toString("base64"), mime_type: "image/png" });
  const stored = (who: TestUser) =>
    server.services.blobs.listStoredBefore(`users/${who.uid}/uploads/**`, new Date(Date.now() + 60_000), 100);

  it("answers the upload's id, and counts it against the day's limit: over it, 429 with Retry-After and nothing stored", async () => {
    const first = await upload(alice);
    assert.equal(first.status, 200);
    assert.match(String(first.body.id), /^upload-/);
    assert.equal(first.body.path, `${mediaPaths.uploads(alice.uid)}${String(first.body.id)}.png`);
    await upload(alice);
    await upload(alice);
    const over = await upload(alice);
    assert.equal(over.status, 429);
    assert.equal((over.body.error as { code: string }).code, "resource_exhausted");
    const retryAfter = Number(over.headers.get("retry-after"));
    assert.ok(retryAfter >= 1 && retryAfter <= 86_400, "until the next UTC day");
    assert.equal((await stored(alice)).length, 3);
  });

  it("never lets concurrent uploads overshoot the limit", async () => {
    const results = await Promise.all(Array.from({ length: 6 }, () => upload(bob)));
    assert.equal(results.filter((result) => result.status === 200).length, 3);
    assert.equal(results.filter((result) => result.status === 429).length, 3);
    assert.equal((await stored(bob)).length, 3);
  });

  it("deletes an upload by id; it is then gone, and someone else's is not found", async () => {
    const { body } = await upload(carol);
    const id = String(body.id);
    assert.equal((await call(alice, "DELETE", `/uploads/${id}`)).status, 404, "not someone else's");
    const deleted = await call(carol, "DELETE", `/uploads/${id}`);
    assert.deepEqual(deleted.body, { ok: true, id });
    assert.equal(await server.services.blobs.stat(String(body.path)), null);
    assert.equal((await call(carol, "DELETE", `/uploads/${id}`)).status, 404);
    assert.equal((await call(carol, "DELETE", "/uploads/__x__")).status, 400);
  });
});
