import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startApiServer, type ApiServer } from "../test-support/api-server.ts";
import { describeBlobStoreContract } from "./blob-store.contract.ts";
import { FileBlobStore } from "./file-blob-store.ts";

describe("FileBlobStore", function () {
  this.timeout(60_000);
  let server: ApiServer;

  before(async () => {
    server = await startApiServer();
  });
  after(async () => {
    await server.close();
  });

  describeBlobStoreContract(
    "files on disk, served by the api function",
    () => {
      const blobs = server.services.fileBlobs;
      assert.ok(blobs);
      return Promise.resolve(blobs);
    },
    async (url) => {
      const response = await fetch(url);
      return {
        status: response.status,
        contentType: response.headers.get("content-type"),
        bytes: Buffer.from(await response.arrayBuffer()),
      };
    },
  );

  describe("signed URLs", () => {
    const path = "users/u-signed/images/j1/0.png";
    const bytes = Buffer.from("0123456789");

    it("refuses a URL whose signature was tampered with, or for another path", async () => {
      const url = new URL(await server.services.blobs.put(path, bytes, "image/png"));
      const tampered = new URL(url);
      tampered.searchParams.set("signature", `${url.searchParams.get("signature")?.slice(0, -2) ?? ""}xx`);
      assert.equal((await fetch(tampered)).status, 403);
      const otherPath = new URL(url.href.replace("/0.png", "/1.png"));
      assert.equal((await fetch(otherPath)).status, 403);
      const body = (await (await fetch(tampered)).json()) as { error: { code: string } };
      assert.equal(body.error.code, "permission_denied");
    });

    it("refuses an expired URL", async () => {
      const directory = mkdtempSync(join(tmpdir(), "atelier-blobs-"));
      try {
        const past = Date.now() - 8 * 24 * 3600 * 1000;
        const store = await FileBlobStore.open({
          root: directory,
          baseUrl: "http://localhost",
          urlTtlSeconds: 60,
          now: () => past,
        });
        const url = new URL(await store.put(path, bytes, "image/png"));
        const current = await FileBlobStore.open({ root: directory, baseUrl: "http://localhost", urlTtlSeconds: 60 });
        assert.equal(
          current.verify(path, Number(url.searchParams.get("expires")), url.searchParams.get("signature") ?? ""),
          false,
        );
        const fresh = new URL(await current.url(path));
        assert.equal(
          current.verify(path, Number(fresh.searchParams.get("expires")), fresh.searchParams.get("signature") ?? ""),
          true,
        );
      } finally {
        rmSync(directory, { recursive: true, force: true });
      }
    });

    it("remembers when each blob was stored, for retention", async () => {
      const directory = mkdtempSync(join(tmpdir(), "atelier-blobs-"));
      try {
        const days = (count: number) => Date.now() - count * 86_400_000;
        const open = (storedAt: number) =>
          FileBlobStore.open({ root: directory, baseUrl: "http://localhost", urlTtlSeconds: 60, now: () => storedAt });
        await (await open(days(3))).put("users/a/uploads/old.png", bytes, "image/png");
        await (await open(days(0))).put("users/a/uploads/new.png", bytes, "image/png");
        const store = await open(Date.now());
        assert.deepEqual(await store.listStoredBefore("users/*/uploads/**", new Date(days(1)), 10), [
          "users/a/uploads/old.png",
        ]);
      } finally {
        rmSync(directory, { recursive: true, force: true });
      }
    });

    it("serves byte ranges so a video can seek", async () => {
      const url = await server.services.blobs.put(path, bytes, "image/png");
      const middle = await fetch(url, { headers: { Range: "bytes=2-5" } });
      assert.equal(middle.status, 206);
      assert.equal(middle.headers.get("content-range"), "bytes 2-5/10");
      assert.equal(await middle.text(), "2345");
      const tail = await fetch(url, { headers: { Range: "bytes=-3" } });
      assert.equal(await tail.text(), "789");
      const beyond = await fetch(url, { headers: { Range: "bytes=50-" } });
      assert.equal(beyond.status, 416);
    });

    it("answers 404 for a correctly signed URL whose blob was deleted", async () => {
      const url = await server.services.blobs.put(path, bytes, "image/png");
      await server.services.blobs.delete(path);
      assert.equal((await fetch(url)).status, 404);
    });
  });
});
