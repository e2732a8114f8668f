import assert from "node:assert/strict";
import { mediaPaths } from "../store/media-paths.ts";
import { TINY_PNG } from "../test-support/media-fixtures.ts";
import { patternedPng } from "../test-support/test-images.ts";
import { inspectImage } from "../media/image-inspection.ts";
import { AppError } from "../errors/app-error.ts";
import { UploadService } from "./upload-service.ts";
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
      UPLOAD_MAX_BYTES_PER_DAY: "20000000",
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
  const upload = (who: TestUser, bytes: Buffer = TINY_PNG) =>
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
    assert.equal((await stored(alice)).filter((path) => !path.endsWith(".thumbnail.webp")).length, 3);
  });

  it("never lets concurrent uploads overshoot the limit", async () => {
    const results = await Promise.all(Array.from({ length: 6 }, () => upload(bob)));
    assert.equal(results.filter((result) => result.status === 200).length, 3);
    assert.equal(results.filter((result) => result.status === 429).length, 3);
    assert.equal((await stored(bob)).filter((path) => !path.endsWith(".thumbnail.webp")).length, 3);
  });

  it("serves a WebP thumbnail of each upload, its longest side THUMBNAIL_MAX_PX (384 by default)", async () => {
    const { status, body } = await upload(carol, await patternedPng(800, 400));
    assert.equal(status, 200, JSON.stringify(body));
    const served = await fetch(String(body.thumbnail_url));
    assert.equal(served.headers.get("content-type"), "image/webp");
    const small = Buffer.from(await served.arrayBuffer());
    assert.deepEqual(inspectImage(small), { mimeType: "image/webp", width: 384, height: 192 });
    assert.ok(small.length < Number(body.size), "smaller than the upload itself");
  });

  it("deletes an upload by id with its thumbnail; it is then gone, and someone else's is not found", async () => {
    const { body } = await upload(carol);
    const id = String(body.id);
    assert.equal((await call(alice, "DELETE", `/uploads/${id}`)).status, 404, "not someone else's");
    const deleted = await call(carol, "DELETE", `/uploads/${id}`);
    assert.deepEqual(deleted.body, { ok: true, id });
    assert.equal(await server.services.blobs.stat(String(body.path)), null);
    assert.deepEqual(await stored(carol).then((paths) => paths.filter((path) => path.includes(id))), []);
    assert.equal((await call(carol, "DELETE", `/uploads/${id}`)).status, 404);
    assert.equal((await call(carol, "DELETE", "/uploads/__x__")).status, 400);
  });

  describe("the day's bytes, counted for POST /uploads and for uploads made straight to Storage alike", () => {
    const uid = "bytes-user";
    const service = (bytesPerDay: number) =>
      new UploadService({
        database: server.services.database,
        blobs: server.services.blobs,
        thumbnailMaxPx: 64,
        now: () => Date.now(),
        limits: { perDay: 100, bytesPerDay, maxBytes: 1_000_000, maxDimension: 4096 },
      });

    it("refuses an upload that would pass the day's bytes with 429, and deletes a direct upload over them", async () => {
      // What counts is the size stored: the clean re-encoding, not the bytes sent.
      const first = await service(1_000_000).store(uid, { data: TINY_PNG.toString("base64"), mime_type: "image/png" });
      const uploads = service(first.size + TINY_PNG.length);
      const direct = `users/${uid}/uploads/from-the-sdk.png`;
      await server.services.blobs.put(direct, TINY_PNG, "image/png");
      assert.equal(await uploads.countDirect(uid, direct, TINY_PNG.length), true, "within the bytes: kept");
      await assert.rejects(
        uploads.store(uid, { data: TINY_PNG.toString("base64"), mime_type: "image/png" }),
        (error: unknown) => error instanceof AppError && error.code === "resource_exhausted",
      );
      const late = `users/${uid}/uploads/one-too-many.png`;
      await server.services.blobs.put(late, TINY_PNG, "image/png");
      assert.equal(await uploads.countDirect(uid, late, TINY_PNG.length), false);
      assert.equal(await server.services.blobs.stat(late), null, "deleted");
      assert.notEqual(await server.services.blobs.stat(direct), null, "the one within the limit stays");
    });
  });
});
