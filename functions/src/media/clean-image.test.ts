import assert from "node:assert/strict";
import sharp from "sharp";
import { decodeRgba, jpegWithExif, patternedPng, solidPng } from "../test-support/test-images.ts";
import { cleanImage, ImageRejectedError, type ImageProblem } from "./clean-image.ts";

/** Untrusted image bytes are decoded in full and encoded again, upright and without metadata, or refused. */
describe("cleanImage", () => {
  const limits = { maxDimension: 2048 };
  const rejection = async (bytes: Buffer): Promise<ImageProblem> => {
    try {
      await cleanImage(bytes, limits);
    } catch (error) {
      if (error instanceof ImageRejectedError) return error.problem;
      throw error;
    }
    return assert.fail("the image was accepted");
  };

  it("removes EXIF (camera, serial, GPS) from a JPEG and turns it upright by its orientation", async () => {
    const original = await jpegWithExif(40, 20);
    assert.ok(original.includes("AtelierTestCam") && original.includes("Serial 12345"));
    const cleaned = await cleanImage(original, limits);
    assert.equal(cleaned.mimeType, "image/jpeg");
    assert.deepEqual([cleaned.width, cleaned.height], [20, 40], "rotated as orientation 6 says");
    const metadata = await sharp(cleaned.data).metadata();
    assert.equal(metadata.exif, undefined);
    assert.equal(metadata.orientation, undefined);
    assert.ok(!cleaned.data.includes("AtelierTestCam") && !cleaned.data.includes("Serial 12345"));
  });

  it("keeps a PNG's pixels exactly and drops whatever follows the image", async () => {
    const original = await patternedPng(32, 24);
    const cleaned = await cleanImage(Buffer.concat([original, Buffer.from("<script>alert(1)</script>")]), limits);
    assert.equal(cleaned.mimeType, "image/png");
    assert.ok(!cleaned.data.includes("<script>"));
    assert.deepEqual((await decodeRgba(cleaned.data)).data, (await decodeRgba(original)).data);
  });

  it("refuses a truncated or corrupt image whose header is valid", async () => {
    const original = await patternedPng(64, 64);
    assert.deepEqual(await rejection(original.subarray(0, original.length - 200)), { kind: "corrupt" });
    const scrambled = Buffer.from(original);
    scrambled.fill(0x41, 60, 400);
    assert.deepEqual(await rejection(scrambled), { kind: "corrupt" });
  });

  it("refuses bytes that are no image, before decoding", async () => {
    assert.deepEqual(await rejection(Buffer.from("GIF89a not accepted")), { kind: "type" });
    assert.deepEqual(await rejection(Buffer.from("%PDF-1.7")), { kind: "type" });
  });

  it("refuses a decompression bomb by its header: a tiny file declaring too many pixels", async () => {
    const bomb = await sharp(await solidPng(4096, 4096))
      .png({ palette: true, compressionLevel: 9 })
      .toBuffer();
    assert.ok(bomb.length < 100_000, `small on disk (${String(bomb.length)} bytes)`);
    assert.deepEqual(await rejection(bomb), { kind: "dimensions", width: 4096, height: 4096 });
  });
});
