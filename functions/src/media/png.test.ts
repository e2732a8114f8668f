import assert from "node:assert/strict";
import { crc32 as zlibCrc32, deflateSync, inflateSync } from "node:zlib";
import { decodePng, encodePng, hasPngSignature } from "./png.ts";
import type { RgbaImage } from "./rgba-image.ts";

// PNGs for the decoder tests are assembled here from first principles (zlib's CRC, zlib's deflate, and an
// independent filter implementation), so they are genuine files and not just the encoder talking to itself.

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const GRAY = 0;
const RGB = 2;
const PALETTE = 3;
const GRAY_ALPHA = 4;
const RGBA = 6;
const FILTER_NAMES = ["None", "Sub", "Up", "Average", "Paeth"] as const;

function chunk(type: string, data: Uint8Array | number[] = []): Buffer {
  const body = Buffer.concat([Buffer.from(type, "latin1"), Buffer.from(data)]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length - 4);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlibCrc32(body));
  return Buffer.concat([length, body, crc]);
}

function header(width: number, height: number, colorType: number, bitDepth = 8, interlace = 0): Buffer {
  const data = Buffer.alloc(13);
  data.writeUInt32BE(width, 0);
  data.writeUInt32BE(height, 4);
  data[8] = bitDepth;
  data[9] = colorType;
  data[12] = interlace;
  return chunk("IHDR", data);
}

function png(...chunks: Buffer[]): Buffer {
  return Buffer.concat([SIGNATURE, ...chunks, chunk("IEND")]);
}

function paeth(left: number, above: number, aboveLeft: number): number {
  const estimate = left + above - aboveLeft;
  const distances = [left, above, aboveLeft].map((candidate) => Math.abs(estimate - candidate));
  const [toLeft, toAbove, toAboveLeft] = distances as [number, number, number];
  if (toLeft <= toAbove && toLeft <= toAboveLeft) return left;
  return toAbove <= toAboveLeft ? above : aboveLeft;
}

/** Raw sample rows filtered as the spec describes; row y uses `filters[y % filters.length]`. */
function scanlines(rows: number[][], bytesPerPixel: number, filters: number[]): Buffer {
  const output: number[] = [];
  rows.forEach((row, y) => {
    const above = y > 0 ? rows[y - 1]! : row.map(() => 0);
    const filter = filters[y % filters.length]!;
    output.push(filter);
    row.forEach((value, index) => {
      const left = index >= bytesPerPixel ? row[index - bytesPerPixel]! : 0;
      const up = above[index]!;
      const aboveLeft = index >= bytesPerPixel ? above[index - bytesPerPixel]! : 0;
      const prediction = [0, left, up, Math.floor((left + up) / 2), paeth(left, up, aboveLeft)][filter]!;
      output.push((value - prediction + 256) % 256);
    });
  });
  return Buffer.from(output);
}

function imageData(rows: number[][], bytesPerPixel: number, filters = [0]): Buffer {
  return chunk("IDAT", deflateSync(scanlines(rows, bytesPerPixel, filters)));
}

/** Deterministic noise bytes (a linear congruential generator), so failures reproduce. */
function noise(length: number, seed: number): number[] {
  let state = seed;
  return Array.from({ length }, () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state >>> 24;
  });
}

function rowsOf(samples: number[], rowLength: number): number[][] {
  const rows: number[][] = [];
  for (let start = 0; start < samples.length; start += rowLength) rows.push(samples.slice(start, start + rowLength));
  return rows;
}

function image(width: number, height: number, pixels: number[]): RgbaImage {
  return { width, height, pixels: Uint8Array.from(pixels) };
}

function randomImage(width: number, height: number, seed: number): RgbaImage {
  return image(width, height, noise(width * height * 4, seed));
}

/** The chunks of a PNG, read naively (the tests' own reader, to inspect what the encoder wrote). */
function chunksOf(bytes: Buffer): { type: string; data: Buffer; crcMatches: boolean }[] {
  const chunks = [];
  for (let offset = 8; offset < bytes.length;) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString("latin1", offset + 4, offset + 8);
    const data = bytes.subarray(offset + 8, offset + 8 + length);
    const crcMatches =
      bytes.readUInt32BE(offset + 8 + length) === zlibCrc32(bytes.subarray(offset + 4, offset + 8 + length));
    chunks.push({ type, data, crcMatches });
    offset += 12 + length;
  }
  return chunks;
}

describe("PNG codec", () => {
  describe("encodePng", () => {
    for (const [width, height] of [
      [1, 1],
      [7, 3],
      [64, 33],
      [3, 50],
    ] as const) {
      it(`round-trips a ${width}x${height} image of random pixels exactly`, () => {
        const original = randomImage(width, height, width * 1000 + height);
        const decoded = decodePng(encodePng(original));
        assert.equal(decoded.width, width);
        assert.equal(decoded.height, height);
        assert.deepEqual(decoded.pixels, original.pixels);
      });
    }

    it("writes a well-formed file: signature, IHDR for 8-bit RGBA without interlacing, IDAT, IEND, valid CRCs", () => {
      const bytes = encodePng(randomImage(9, 4, 1));
      assert.ok(hasPngSignature(bytes));
      const chunks = chunksOf(bytes);
      assert.deepEqual(
        chunks.map((each) => each.type),
        ["IHDR", "IDAT", "IEND"],
      );
      assert.ok(chunks.every((each) => each.crcMatches));
      const ihdr = chunks[0]!.data;
      assert.deepEqual([ihdr.readUInt32BE(0), ihdr.readUInt32BE(4), ...ihdr.subarray(8)], [9, 4, 8, 6, 0, 0, 0]);
    });

    it("chooses a filter per row: Sub for a horizontal ramp, Up for a row that repeats the one above", () => {
      const width = 40;
      const ramp = Array.from({ length: width * 4 }, (_, index) => Math.floor(index / 4) * 5);
      const repeated = noise(width * 4, 7);
      const bytes = encodePng(image(width, 3, [...ramp, ...repeated, ...repeated]));
      const filtered = inflateSync(chunksOf(bytes)[1]!.data);
      const filterOfRow = (y: number) => filtered[y * (width * 4 + 1)];
      assert.equal(filterOfRow(0), 1, "row 0 (ramp) uses Sub");
      assert.equal(filterOfRow(2), 2, "row 2 (same as row 1) uses Up");
    });

    it("compresses smooth pictures far below their raw size", () => {
      const width = 256;
      const height = 256;
      const pixels = new Uint8Array(width * height * 4);
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) pixels.set([x, y, (x + y) >> 1, 255], (y * width + x) * 4);
      }
      const bytes = encodePng({ width, height, pixels });
      assert.ok(bytes.length < pixels.length / 50, `${bytes.length} bytes`);
      assert.deepEqual(decodePng(bytes).pixels, pixels);
    });

    it("rejects an image whose pixel buffer does not match its size", () => {
      assert.throws(() => encodePng(image(2, 2, [0, 0, 0, 0])), /needs 16 pixel bytes, got 4/);
      assert.throws(() => encodePng(image(0, 2, [])), /positive integers/);
    });
  });

  describe("decodePng", () => {
    it("decodes grayscale (color type 0), with the tRNS gray value transparent", () => {
      const bytes = png(
        header(3, 2, GRAY),
        chunk("tRNS", [0, 128]),
        imageData(
          [
            [0, 128, 255],
            [7, 8, 9],
          ],
          1,
        ),
      );
      assert.deepEqual(
        decodePng(bytes),
        image(3, 2, [0, 0, 0, 255, 128, 128, 128, 0, 255, 255, 255, 255, 7, 7, 7, 255, 8, 8, 8, 255, 9, 9, 9, 255]),
      );
    });

    it("decodes RGB (color type 2), with the tRNS color transparent", () => {
      const rows = [
        [10, 20, 30, 40, 50, 60],
        [1, 2, 3, 200, 100, 0],
      ];
      const bytes = png(header(2, 2, RGB), chunk("tRNS", [0, 40, 0, 50, 0, 60]), imageData(rows, 3));
      assert.deepEqual(decodePng(bytes), image(2, 2, [10, 20, 30, 255, 40, 50, 60, 0, 1, 2, 3, 255, 200, 100, 0, 255]));
    });

    it("decodes palette images (color type 3), with tRNS alphas for the first entries only", () => {
      const palette = [255, 0, 0, 0, 255, 0, 0, 0, 255];
      const bytes = png(
        header(3, 1, PALETTE),
        chunk("PLTE", palette),
        chunk("tRNS", [0, 128]),
        imageData([[2, 1, 0]], 1),
      );
      assert.deepEqual(decodePng(bytes), image(3, 1, [0, 0, 255, 255, 0, 255, 0, 128, 255, 0, 0, 0]));
    });

    it("decodes gray with alpha (color type 4)", () => {
      const bytes = png(header(2, 1, GRAY_ALPHA), imageData([[50, 0, 200, 99]], 2));
      assert.deepEqual(decodePng(bytes), image(2, 1, [50, 50, 50, 0, 200, 200, 200, 99]));
    });

    it("decodes RGBA (color type 6)", () => {
      const pixels = noise(4 * 3 * 4, 3);
      const bytes = png(header(4, 3, RGBA), imageData(rowsOf(pixels, 16), 4));
      assert.deepEqual(decodePng(bytes), image(4, 3, pixels));
    });

    FILTER_NAMES.forEach((name, filter) => {
      it(`reverses the ${name} filter (type ${filter}) for 1, 2, 3 and 4 bytes per pixel`, () => {
        for (const [colorType, bytesPerPixel] of [
          [GRAY, 1],
          [GRAY_ALPHA, 2],
          [RGB, 3],
          [RGBA, 4],
        ] as const) {
          const width = 5;
          const height = 4;
          const samples = noise(width * height * bytesPerPixel, filter * 10 + colorType);
          const decoded = decodePng(
            png(
              header(width, height, colorType),
              imageData(rowsOf(samples, width * bytesPerPixel), bytesPerPixel, [filter]),
            ),
          );
          const expected: number[] = [];
          for (let pixel = 0; pixel < width * height; pixel++) {
            const sample = (channel: number) => samples[pixel * bytesPerPixel + channel]!;
            if (colorType === GRAY) expected.push(sample(0), sample(0), sample(0), 255);
            if (colorType === GRAY_ALPHA) expected.push(sample(0), sample(0), sample(0), sample(1));
            if (colorType === RGB) expected.push(sample(0), sample(1), sample(2), 255);
            if (colorType === RGBA) expected.push(sample(0), sample(1), sample(2), sample(3));
          }
          assert.deepEqual(decoded.pixels, Uint8Array.from(expected), `color type ${colorType}`);
        }
      });
    });

    it("handles a different filter on every row", () => {
      const pixels = noise(6 * 10 * 4, 99);
      const bytes = png(header(6, 10, RGBA), imageData(rowsOf(pixels, 24), 4, [4, 3, 2, 1, 0]));
      assert.deepEqual(decodePng(bytes).pixels, Uint8Array.from(pixels));
    });

    it("joins image data split over several IDAT chunks (including an empty one)", () => {
      const pixels = noise(8 * 8 * 4, 5);
      const compressed = deflateSync(scanlines(rowsOf(pixels, 32), 4, [4]));
      const bytes = png(
        header(8, 8, RGBA),
        chunk("IDAT", compressed.subarray(0, 1)),
        chunk("IDAT", compressed.subarray(1, 20)),
        chunk("IDAT"),
        chunk("IDAT", compressed.subarray(20)),
      );
      assert.deepEqual(decodePng(bytes).pixels, Uint8Array.from(pixels));
    });

    it("skips ancillary chunks it does not use", () => {
      const bytes = png(
        header(1, 1, RGBA),
        chunk("tEXt", Buffer.from("Comment\0hello")),
        chunk("gAMA", [0, 0, 0xb1, 0x8f]),
        imageData([[1, 2, 3, 4]], 4),
      );
      assert.deepEqual(decodePng(bytes), image(1, 1, [1, 2, 3, 4]));
    });

    it("reads a PNG held in a Buffer slice at a non-zero offset", () => {
      const bytes = encodePng(randomImage(3, 3, 11));
      const slice = Buffer.concat([Buffer.from("junk"), bytes]).subarray(4);
      assert.deepEqual(decodePng(slice).pixels, decodePng(bytes).pixels);
    });

    describe("rejects what it cannot decode, saying why", () => {
      const valid = () => png(header(2, 2, RGBA), imageData(rowsOf(noise(16, 1), 8), 4));

      it("a file that is not a PNG", () => {
        assert.throws(() => decodePng(Buffer.from("GIF89a, not a PNG at all")), /Not a PNG/);
        assert.throws(() => decodePng(Buffer.from([0xff, 0xd8, 0xff, 0xe0])), /Not a PNG/);
        assert.throws(() => decodePng(new Uint8Array(0)), /Not a PNG/);
      });

      it("a truncated file", () => {
        const bytes = valid();
        for (const length of [8, 20, 40, bytes.length - 1]) {
          assert.throws(() => decodePng(bytes.subarray(0, length)), /truncated/, `${length} bytes`);
        }
      });

      it("a chunk with a bad CRC", () => {
        const bytes = valid();
        bytes[20] = bytes[20]! ^ 0xff; // Inside IHDR's data.
        assert.throws(() => decodePng(bytes), /IHDR.*CRC/);
      });

      it("16-bit samples and interlaced images", () => {
        assert.throws(
          () => decodePng(png(header(1, 1, RGBA, 16), imageData([[0, 0, 0, 0, 0, 0, 0, 0]], 8))),
          /bit depth 16/,
        );
        assert.throws(() => decodePng(png(header(1, 1, RGBA, 8, 1), imageData([[0, 0, 0, 0]], 4))), /interlaced/);
      });

      it("an unknown color type, or a palette image without a palette", () => {
        assert.throws(() => decodePng(png(header(1, 1, 5), imageData([[0]], 1))), /color type 5/);
        assert.throws(() => decodePng(png(header(1, 1, PALETTE), imageData([[0]], 1))), /without a PLTE/);
      });

      it("a palette index beyond the palette", () => {
        const bytes = png(header(2, 1, PALETTE), chunk("PLTE", [1, 2, 3]), imageData([[0, 1]], 1));
        assert.throws(() => decodePng(bytes), /palette entry 1 of 1/);
      });

      it("an unknown critical chunk, or one before IHDR", () => {
        assert.throws(() => decodePng(png(header(1, 1, RGBA), chunk("ZZZZ"), imageData([[0, 0, 0, 0]], 4))), /ZZZZ/);
        assert.throws(() => decodePng(png(imageData([[0, 0, 0, 0]], 4), header(1, 1, RGBA))), /IHDR is not the first/);
      });

      it("image data that is too short, too long, not zlib, or uses an unknown filter", () => {
        const ihdr = header(2, 1, RGBA);
        const short = chunk("IDAT", deflateSync(Buffer.from([0, 1, 2, 3, 4])));
        const long = chunk("IDAT", deflateSync(Buffer.alloc(100)));
        const garbage = chunk("IDAT", Buffer.from("not deflate data"));
        const unknownFilter = chunk("IDAT", deflateSync(Buffer.from([5, 0, 0, 0, 0, 0, 0, 0, 0])));
        assert.throws(() => decodePng(png(ihdr, short)), /truncated: 5 bytes of image data where 9/);
        assert.throws(() => decodePng(png(ihdr, long)), /does not inflate to the 9 bytes/);
        assert.throws(() => decodePng(png(ihdr, garbage)), /does not inflate/);
        assert.throws(() => decodePng(png(ihdr, unknownFilter)), /unknown filter type 5/);
      });

      it("a header claiming an absurd size, before allocating anything", () => {
        assert.throws(
          () => decodePng(png(header(0x7fffffff, 0x7fffffff, RGBA), chunk("IDAT"))),
          /larger than supported/,
        );
        assert.throws(() => decodePng(png(header(0, 1, RGBA), chunk("IDAT"))), /size is 0x1/);
      });
    });
  });
});
