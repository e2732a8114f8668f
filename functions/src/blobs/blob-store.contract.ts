import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { BlobMissingError, type BlobStore } from "./blob-store.ts";

interface FetchedBlob {
  readonly status: number;
  readonly contentType: string | null;
  readonly bytes: Buffer;
}

/**
 * The behaviour every BlobStore adapter must have. `fetchUrl`, when given, proves a blob's URL really serves
 * its bytes (for the file store that goes through the `api` function's media route).
 */
export function describeBlobStoreContract(
  adapterName: string,
  open: () => Promise<BlobStore>,
  fetchUrl?: (url: string) => Promise<FetchedBlob>,
): void {
  describe(`BlobStore contract: ${adapterName}`, function () {
    this.timeout(20_000);
    let blobs: BlobStore;
    let root: string;

    before(async () => {
      blobs = await open();
    });
    beforeEach(() => {
      root = `users/contract-${randomUUID()}`;
    });

    const png = Buffer.from("89504e470d0a1a0a0000000d49484452", "hex");

    it("stores bytes with their content type and reads them back", async () => {
      await blobs.put(`${root}/images/j1/0.png`, png, "image/png");
      const stored = await blobs.get(`${root}/images/j1/0.png`);
      assert.ok(stored);
      assert.deepEqual(stored.bytes, png);
      assert.equal(stored.contentType, "image/png");
      assert.equal(stored.size, png.length);
      assert.deepEqual(await blobs.stat(`${root}/images/j1/0.png`), { contentType: "image/png", size: png.length });
    });

    it("answers null for a blob that does not exist", async () => {
      assert.equal(await blobs.get(`${root}/nothing.png`), null);
      assert.equal(await blobs.stat(`${root}/nothing.png`), null);
    });

    it("replaces a blob written twice to the same path", async () => {
      await blobs.put(`${root}/videos/v.mp4`, Buffer.from("first"), "video/mp4");
      await blobs.put(`${root}/videos/v.mp4`, Buffer.from("second!"), "video/mp4");
      assert.equal((await blobs.get(`${root}/videos/v.mp4`))?.bytes.toString(), "second!");
    });

    it("deletes one blob, silently when it is already gone", async () => {
      await blobs.put(`${root}/uploads/a.png`, png, "image/png");
      await blobs.delete(`${root}/uploads/a.png`);
      await blobs.delete(`${root}/uploads/a.png`);
      assert.equal(await blobs.get(`${root}/uploads/a.png`), null);
    });

    it("deletes by prefix and nothing outside it", async () => {
      await blobs.put(`${root}/images/j1/0.png`, png, "image/png");
      await blobs.put(`${root}/images/j1/1.png`, png, "image/png");
      await blobs.put(`${root}/images/j10/0.png`, png, "image/png");
      assert.equal(await blobs.deletePrefix(`${root}/images/j1/`), 2);
      assert.equal(await blobs.stat(`${root}/images/j1/0.png`), null);
      assert.ok(await blobs.stat(`${root}/images/j10/0.png`));
    });

    it("refuses paths that could escape their folder", async () => {
      for (const bad of ["../etc/passwd", "users/../../x", "/abs/path", "users//double", "users/a b"]) {
        await assert.rejects(blobs.put(bad, png, "image/png"), /Not a valid blob path/);
      }
    });

    it("gives a URL that serves the bytes with their content type", async () => {
      const url = await blobs.put(`${root}/images/j2/0.png`, png, "image/png");
      assert.match(url, /^https?:\/\//);
      assert.equal(await blobs.url(`${root}/images/j2/0.png`), url);
      if (fetchUrl !== undefined) {
        const fetched = await fetchUrl(url);
        assert.equal(fetched.status, 200);
        assert.equal(fetched.contentType, "image/png");
        assert.deepEqual(fetched.bytes, png);
      }
    });

    it("refuses a URL for a blob that does not exist, as Cloud Storage does", async () => {
      await assert.rejects(blobs.url(`${root}/images/none/0.png`), BlobMissingError);
      const url = await blobs.put(`${root}/images/j3/0.png`, png, "image/png");
      await blobs.delete(`${root}/images/j3/0.png`);
      await assert.rejects(blobs.url(`${root}/images/j3/0.png`), BlobMissingError);
      assert.match(blobs.refreshUrl(`${root}/images/j3/0.png`, url), /^https?:\/\//, "a stored URL needs no lookup");
    });

    it("hands out a stored URL again, still serving the bytes, without a lookup", async () => {
      const url = await blobs.put(`${root}/images/j4/0.png`, png, "image/png");
      const again = blobs.refreshUrl(`${root}/images/j4/0.png`, url);
      if (fetchUrl !== undefined) {
        const fetched = await fetchUrl(again);
        assert.equal(fetched.status, 200);
        assert.deepEqual(fetched.bytes, png);
      }
    });

    it("lists the blobs stored before a cutoff whose paths match a glob, up to a limit", async () => {
      const matching = [`${root}/u1/uploads/a.png`, `${root}/u1/uploads/deep/b.png`, `${root}/u2/uploads/c.png`];
      for (const path of [...matching, `${root}/u2/images/d.png`, `${root}/u3/uploads`]) {
        await blobs.put(path, png, "image/png");
      }
      const glob = `${root}/*/uploads/**`;
      const later = new Date(Date.now() + 60_000);
      assert.deepEqual((await blobs.listStoredBefore(glob, later, 10)).sort(), matching);
      assert.deepEqual(await blobs.listStoredBefore(glob, new Date(Date.now() - 60_000), 10), [], "none that old");
      assert.equal((await blobs.listStoredBefore(glob, later, 2)).length, 2);
      assert.deepEqual(await blobs.listStoredBefore(`${root}/*/images/d.png`, later, 10), [`${root}/u2/images/d.png`]);
    });

    it("lists in path order a page at a time, each page starting after the last path of the one before", async () => {
      const paths = ["a-b/x.png", "a/x.png", "a/y.png", "b/z.png"].map((name) => `${root}/u9/images/${name}`);
      for (const path of [...paths].reverse()) await blobs.put(path, png, "image/png");
      const later = new Date(Date.now() + 60_000);
      const glob = `${root}/u9/**`;
      const first = await blobs.listStoredBefore(glob, later, 2);
      assert.deepEqual(first, [...paths].sort().slice(0, 2));
      const second = await blobs.listStoredBefore(glob, later, 2, first.at(-1));
      assert.deepEqual(second, [...paths].sort().slice(2));
      assert.deepEqual(await blobs.listStoredBefore(glob, later, 2, second.at(-1)), []);
    });

    it("answers ping", async () => {
      await blobs.ping();
    });
  });
}
