import assert from "node:assert/strict";
import sharp from "sharp";
import { decodeRgba, maskPng, patternedPng, solidPng } from "../test-support/test-images.ts";
import { applyMask } from "./masked-edit.ts";

/**
 * A masked edit keeps every pixel outside the mask and its feather band, whatever the model returned: here the
 * "model" repaints the whole picture in another colour, at another size and in another format.
 */
describe("applyMask", () => {
  const width = 64;
  const height = 48;
  const region = { left: 16, top: 12, width: 16, height: 12 };
  const feather = 3;
  const pixel = (image: { data: Buffer; width: number }, x: number, y: number) => [
    ...image.data.subarray((y * image.width + x) * 4, (y * image.width + x) * 4 + 4),
  ];
  /** Chessboard distance from the mask's rectangle (0 inside). */
  const distance = (x: number, y: number) =>
    Math.max(
      region.left - x,
      x - (region.left + region.width - 1),
      0,
      region.top - y,
      y - (region.top + region.height - 1),
    );

  it("keeps the input's pixels exactly outside the mask and its feather band, and takes the edit inside", async () => {
    const original = await patternedPng(width, height);
    // Another size and format than the input, and nothing like it: as a model that ignores the mask may answer.
    const repainted = await sharp(await solidPng(width * 2, height * 2, { r: 250, g: 250, b: 0 }))
      .jpeg({ quality: 100 })
      .toBuffer();
    const result = await applyMask(original, repainted, await maskPng(width, height, region), feather);
    assert.deepEqual([result.width, result.height], [width, height]);
    assert.equal((await sharp(result.data).metadata()).format, "png");

    const before = await decodeRgba(original);
    const after = await decodeRgba(result.data);
    let outside = 0;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const away = distance(x, y);
        if (away > feather) {
          outside++;
          assert.deepEqual(pixel(after, x, y), pixel(before, x, y), `(${String(x)}, ${String(y)}) outside`);
        } else if (away === 0) {
          const [r = 0, g = 0, b = 0] = pixel(after, x, y);
          assert.ok(r > 240 && g > 240 && b < 15, `(${String(x)}, ${String(y)}) inside is the edit`);
        }
      }
    }
    assert.ok(outside > width * height * 0.8);
    // The band fades: one pixel out is mostly the edit, three out mostly the original.
    const nearRed = pixel(after, region.left - 1, region.top + 5)[2] ?? 0;
    const farRed = pixel(after, region.left - 3, region.top + 5)[2] ?? 0;
    const originalBlue = pixel(before, region.left - 3, region.top + 5)[2] ?? 0;
    assert.ok(nearRed < farRed && farRed <= originalBlue + 1);
  });

  it("with no feather, changes exactly the pixels of the mask", async () => {
    const original = await patternedPng(width, height);
    const repainted = await solidPng(width, height, { r: 0, g: 0, b: 0 });
    const result = await applyMask(original, repainted, await maskPng(width, height, region), 0);
    const before = await decodeRgba(original);
    const after = await decodeRgba(result.data);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const expected = distance(x, y) === 0 ? [0, 0, 0, 255] : pixel(before, x, y);
        assert.deepEqual(pixel(after, x, y), expected, `(${String(x)}, ${String(y)})`);
      }
    }
  });
});
