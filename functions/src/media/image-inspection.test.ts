import assert from "node:assert/strict";
import { inspectImage } from "./image-inspection.ts";
import type { ImageInfo } from "./image-inspection.ts";
import sharp from "sharp";

// Each sample is a genuine header built byte by byte from the format specifications, together with the
// number of leading bytes a reader needs to know the size: every shorter prefix must give `undefined`.

function uint16BigEndian(value: number): number[] {
  return [value >> 8, value & 0xff];
}

function uint32LittleEndian(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24];
}

function uint24LittleEndian(value: number): number[] {
  return uint32LittleEndian(value).slice(0, 3);
}

function ascii(text: string): number[] {
  return [...Buffer.from(text, "latin1")];
}

/** A JPEG segment: FF, the marker, a big-endian length counting itself, the payload. */
function segment(marker: number, payload: number[]): number[] {
  return [0xff, marker, ...uint16BigEndian(payload.length + 2), ...payload];
}

/** A baseline or progressive frame header: precision 8, the size, three components (Y, Cb, Cr). */
function startOfFrame(marker: number, width: number, height: number): number[] {
  const components = [1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1];
  return segment(marker, [8, ...uint16BigEndian(height), ...uint16BigEndian(width), 3, ...components]);
}

const APP0_JFIF = segment(0xe0, [...ascii("JFIF\0"), 1, 1, 0, 0, 72, 0, 72, 0, 0]);
const DQT = segment(0xdb, [0, ...Array.from({ length: 64 }, (_, index) => index + 1)]);
// A Huffman table's bytes placed where a frame header keeps its size: it must not be taken for one (C4 is
// inside the SOF range but is not a frame).
const DHT = segment(0xc4, [0x00, 0, 0x12, 0x34, 0x56, 0x78, ...Array.from({ length: 14 }, () => 0)]);
const SOS = segment(0xda, [1, 1, 0, 0, 63, 0]);

function jpeg(...parts: number[][]): Buffer {
  return Buffer.from([0xff, 0xd8, ...parts.flat()]);
}

/** The RIFF container: "RIFF", the size of everything after it, "WEBP", then one chunk. */
function webp(chunkType: string, payload: number[]): Buffer {
  const paddedPayload = payload.length % 2 === 1 ? [...payload, 0] : payload;
  const chunk = [...ascii(chunkType), ...uint32LittleEndian(payload.length), ...paddedPayload];
  return Buffer.from([...ascii("RIFF"), ...uint32LittleEndian(4 + chunk.length), ...ascii("WEBP"), ...chunk]);
}

/** Lossy: frame tag (key frame, shown, first partition 0x0102 bytes), start code, sizes with scaling bits. */
function vp8(width: number, height: number, scaleBits = 0): Buffer {
  const tag = 0x10 | (0x0102 << 5); // Bit 0 clear: key frame; version 0; bit 4: shown; then the partition size.
  const frameTag = [tag & 0xff, (tag >> 8) & 0xff, tag >> 16];
  const size = (value: number) => [value & 0xff, ((value >> 8) & 0x3f) | (scaleBits << 6)];
  return webp("VP8 ", [...frameTag, 0x9d, 0x01, 0x2a, ...size(width), ...size(height), ...Array<number>(12).fill(0)]);
}

/** Lossless: signature 2F, then width - 1 and height - 1 (14 bits each), the alpha bit, version 0. */
function vp8l(width: number, height: number, version = 0): Buffer {
  const bits = (width - 1) | ((height - 1) << 14) | (1 << 28) | (version << 29);
  return webp("VP8L", [0x2f, ...uint32LittleEndian(bits >>> 0), 0x00, 0x00]);
}

/** Extended: flags (alpha), three reserved bytes, canvas width - 1 and height - 1 as 24-bit values. */
function vp8x(width: number, height: number): Buffer {
  return webp("VP8X", [0x10, 0, 0, 0, ...uint24LittleEndian(width - 1), ...uint24LittleEndian(height - 1)]);
}

interface Sample {
  readonly name: string;
  readonly bytes: Buffer;
  readonly expected: ImageInfo;
  /** How many leading bytes the size needs: shorter prefixes are truncated headers. */
  readonly needed: number;
}

/** A transparent PNG of the given size, as libvips writes it. */
const transparentPng = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
    .png()
    .toBuffer();
const PNG_37_BY_19 = await transparentPng(37, 19);
const PNG_2_BY_2 = await transparentPng(2, 2);

function samples(): Sample[] {
  const png = PNG_37_BY_19;
  const beforeFrame = [APP0_JFIF, DQT, DHT];
  const baseline = jpeg(...beforeFrame, startOfFrame(0xc0, 640, 480), SOS, [0x12, 0x34, 0xff, 0xd9]);
  const frameOffset = 2 + beforeFrame.flat().length;
  return [
    {
      name: "PNG (made by libvips)",
      bytes: png,
      expected: { mimeType: "image/png", width: 37, height: 19 },
      needed: 24,
    },
    {
      name: "baseline JPEG (SOI, APP0, DQT, DHT, SOF0, SOS)",
      bytes: baseline,
      expected: { mimeType: "image/jpeg", width: 640, height: 480 },
      // FF C0, length, precision, height, width.
      needed: frameOffset + 9,
    },
    {
      name: "lossy WebP (VP8)",
      bytes: vp8(400, 300),
      expected: { mimeType: "image/webp", width: 400, height: 300 },
      needed: 30,
    },
    {
      name: "lossless WebP (VP8L)",
      bytes: vp8l(1024, 768),
      expected: { mimeType: "image/webp", width: 1024, height: 768 },
      needed: 25,
    },
    {
      name: "extended WebP (VP8X) wider than 16 bits",
      bytes: vp8x(70_000, 3),
      expected: { mimeType: "image/webp", width: 70_000, height: 3 },
      needed: 30,
    },
  ];
}

/** Deterministic noise, so a failure reproduces. */
function noise(length: number, seed: number): Buffer {
  let state = seed;
  return Buffer.from(
    Array.from({ length }, () => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state >>> 24;
    }),
  );
}

describe("inspectImage", () => {
  describe("reads the type and size from genuine headers", () => {
    for (const sample of samples()) {
      it(sample.name, () => {
        assert.deepEqual(inspectImage(sample.bytes), sample.expected);
      });
    }

    it("a progressive JPEG (SOF2) after fill bytes and standalone markers", () => {
      const bytes = jpeg([0xff, 0xff, 0xff], APP0_JFIF, [0xff, 0x01], [0xff, 0xd0], DQT, startOfFrame(0xc2, 1, 65_535));
      assert.deepEqual(inspectImage(bytes), { mimeType: "image/jpeg", width: 1, height: 65_535 });
    });

    it("every kind of JPEG frame header (SOF0-3, 5-7, 9-11, 13-15)", () => {
      for (const marker of [0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]) {
        const info = inspectImage(jpeg(APP0_JFIF, startOfFrame(marker, 300, 200)));
        assert.deepEqual(info, { mimeType: "image/jpeg", width: 300, height: 200 }, marker.toString(16));
      }
    });

    it("a lossy WebP whose size fields carry upscaling bits", () => {
      assert.deepEqual(inspectImage(vp8(16_383, 1, 3)), { mimeType: "image/webp", width: 16_383, height: 1 });
    });

    it("the extremes of the lossless and extended WebP fields", () => {
      assert.deepEqual(inspectImage(vp8l(16_384, 16_384)), { mimeType: "image/webp", width: 16_384, height: 16_384 });
      assert.deepEqual(inspectImage(vp8l(1, 1)), { mimeType: "image/webp", width: 1, height: 1 });
      assert.deepEqual(inspectImage(vp8x(1 << 24, 1)), { mimeType: "image/webp", width: 1 << 24, height: 1 });
    });

    it("bytes held in a Buffer slice at a non-zero offset", () => {
      for (const sample of samples()) {
        const slice = Buffer.concat([Buffer.from("prefix"), sample.bytes]).subarray(6);
        assert.deepEqual(inspectImage(slice), sample.expected, sample.name);
      }
    });
  });

  describe("answers undefined, without throwing, for", () => {
    it("every truncation of a header before the size is complete", () => {
      for (const sample of samples()) {
        for (let length = 0; length < sample.bytes.length; length++) {
          const info = inspectImage(sample.bytes.subarray(0, length));
          assert.deepEqual(
            info,
            length < sample.needed ? undefined : sample.expected,
            `${sample.name}, ${length} bytes`,
          );
        }
      }
    });

    it("other formats and random garbage", () => {
      assert.equal(inspectImage(Buffer.from("GIF89a\x01\x00\x01\x00", "latin1")), undefined);
      assert.equal(inspectImage(Buffer.from("RIFF\x04\x00\x00\x00WAVEfmt ", "latin1")), undefined);
      assert.equal(inspectImage(Buffer.from("<svg width='10' height='10'/>")), undefined);
      for (let seed = 1; seed <= 2000; seed++) {
        assert.equal(inspectImage(noise(seed % 200, seed)), undefined, `seed ${seed}`);
      }
    });

    it("corrupt JPEG structure: zero-length segments, a scan or the end before any frame, an unknown height", () => {
      assert.equal(inspectImage(jpeg([0xff, 0xe0, 0x00, 0x00], startOfFrame(0xc0, 8, 8))), undefined);
      assert.equal(inspectImage(jpeg([0xff, 0xe0, 0x00, 0x01], startOfFrame(0xc0, 8, 8))), undefined);
      assert.equal(inspectImage(jpeg(APP0_JFIF, SOS, startOfFrame(0xc0, 8, 8))), undefined);
      assert.equal(inspectImage(jpeg(APP0_JFIF, [0xff, 0xd9], startOfFrame(0xc0, 8, 8))), undefined);
      assert.equal(inspectImage(jpeg(APP0_JFIF, [0x00], startOfFrame(0xc0, 8, 8))), undefined);
      assert.equal(inspectImage(jpeg(APP0_JFIF, [0xff, 0x00], startOfFrame(0xc0, 8, 8))), undefined);
      assert.equal(inspectImage(jpeg(startOfFrame(0xc0, 8, 0))), undefined, "height 0 (deferred to DNL)");
      assert.equal(inspectImage(jpeg(segment(0xc0, [8, 0, 8]))), undefined, "frame header too short");
      assert.equal(inspectImage(Buffer.from([0xff, 0xd8, ...Array<number>(1000).fill(0xff)])), undefined);
    });

    it("a segment length that points past the end", () => {
      assert.equal(inspectImage(jpeg([0xff, 0xe1, 0xff, 0xff, 1, 2, 3])), undefined);
    });

    it("corrupt PNG headers: zero sizes, a first chunk that is not IHDR", () => {
      const png = PNG_2_BY_2;
      const zeroWidth = Buffer.from(png);
      zeroWidth.writeUInt32BE(0, 16);
      assert.equal(inspectImage(zeroWidth), undefined);
      const renamed = Buffer.from(png);
      renamed.write("IHDX", 12, "latin1");
      assert.equal(inspectImage(renamed), undefined);
    });

    it("corrupt WebP: not a key frame, no start code, a wrong VP8L signature or version, an oversized canvas", () => {
      const interFrame = vp8(10, 10);
      interFrame[20] = interFrame[20]! | 1;
      assert.equal(inspectImage(interFrame), undefined);
      const noStartCode = vp8(10, 10);
      noStartCode[23] = 0;
      assert.equal(inspectImage(noStartCode), undefined);
      const badSignature = vp8l(10, 10);
      badSignature[20] = 0x2e;
      assert.equal(inspectImage(badSignature), undefined);
      assert.equal(inspectImage(vp8l(10, 10, 1)), undefined);
      assert.equal(inspectImage(vp8x(1 << 24, 1 << 24)), undefined);
      assert.equal(inspectImage(vp8(0, 10)), undefined);
      assert.equal(inspectImage(webp("ALPH", Array<number>(20).fill(1))), undefined);
    });

    it("a WebP chunk that claims fewer bytes than its header needs", () => {
      const bytes = vp8x(100, 100);
      bytes.writeUInt32LE(4, 16);
      assert.equal(inspectImage(bytes), undefined);
    });

    it("valid headers with random bytes overwritten (it may read a size, but never throws or invents one)", () => {
      let seed = 1;
      for (const sample of samples()) {
        for (let round = 0; round < 500; round++, seed++) {
          const bytes = Buffer.from(sample.bytes);
          const [position = 0, value = 0, count = 0] = noise(3, seed);
          for (let change = 0; change <= count % 4; change++) bytes[(position + change * 7) % bytes.length] = value;
          const info = inspectImage(bytes);
          if (info === undefined) continue;
          assert.ok(Number.isInteger(info.width) && info.width > 0, `${sample.name}, seed ${seed}`);
          assert.ok(Number.isInteger(info.height) && info.height > 0, `${sample.name}, seed ${seed}`);
        }
      }
    });
  });
});
