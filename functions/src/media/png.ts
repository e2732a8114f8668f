import { crc32, deflateSync, inflateSync } from "node:zlib";
import { assertImageSize, assertRgbaImage } from "./rgba-image.ts";
import type { RgbaImage } from "./rgba-image.ts";

/**
 * A small PNG codec for the images Atelier draws and receives: it writes 8-bit RGBA and reads every 8-bit,
 * non-interlaced PNG (gray, RGB, palette, gray + alpha, RGBA). Format reference: https://www.w3.org/TR/png-3/
 *
 * The decoder is strict, because its input comes from users: every chunk's CRC is checked, chunks must lie
 * wholly inside the file, IHDR must come first and IEND must be present, and image data must inflate to exactly
 * the size the header describes. Anything it cannot decode throws an `Error` saying why.
 */

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] as const;

/** PNG color types and how many samples (bytes, at bit depth 8) each pixel has. */
const COLOR_GRAY = 0;
const COLOR_RGB = 2;
const COLOR_PALETTE = 3;
const COLOR_GRAY_ALPHA = 4;
const COLOR_RGBA = 6;
const CHANNELS = new Map<number, number>([
  [COLOR_GRAY, 1],
  [COLOR_RGB, 3],
  [COLOR_PALETTE, 1],
  [COLOR_GRAY_ALPHA, 2],
  [COLOR_RGBA, 4],
]);

/** The five per-row filter types; the byte before each row of image data names one of them. */
const FILTER_NONE = 0;
const FILTER_SUB = 1;
const FILTER_UP = 2;
const FILTER_AVERAGE = 3;
const FILTER_PAETH = 4;

/** Chunk lengths are unsigned 32-bit, but the format caps them at 2^31 - 1. */
const MAX_CHUNK_LENGTH = 0x7fffffff;

/** True when `bytes` starts with the 8-byte PNG signature. */
export function hasPngSignature(bytes: Uint8Array): boolean {
  return bytes.length >= SIGNATURE.length && SIGNATURE.every((byte, index) => bytes[index] === byte);
}

/**
 * Encodes an RGBA image as a PNG: bit depth 8, color type 6, not interlaced, one IDAT chunk. Each row gets
 * whichever of the five filters leaves the smallest sum of absolute (signed) residuals, the heuristic libpng
 * uses: it is cheap and usually lets deflate do much better than a fixed filter would.
 */
export function encodePng(image: RgbaImage): Buffer {
  assertRgbaImage(image);
  const header = Buffer.alloc(13);
  header.writeUInt32BE(image.width, 0);
  header.writeUInt32BE(image.height, 4);
  header[8] = 8; // bit depth
  header[9] = COLOR_RGBA;
  // Bytes 10-12 stay 0: deflate compression, adaptive filtering, no interlace.
  return Buffer.concat([
    Buffer.from(SIGNATURE),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(filterRows(image))),
    chunk("IEND", new Uint8Array(0)),
  ]);
}

/** One chunk: length, type, data, then the CRC of type and data (not of the length). */
function chunk(type: string, data: Uint8Array): Buffer {
  const bytes = Buffer.alloc(12 + data.length);
  bytes.writeUInt32BE(data.length, 0);
  bytes.write(type, 4, "latin1");
  bytes.set(data, 8);
  bytes.writeUInt32BE(crc32(bytes.subarray(4, 8 + data.length)), 8 + data.length);
  return bytes;
}

/** The filtered scanlines (a filter-type byte, then the row's residuals) that deflate will compress. */
function filterRows(image: RgbaImage): Uint8Array {
  const { width, height, pixels } = image;
  const stride = width * 4;
  const output = new Uint8Array(height * (stride + 1));
  // One scratch row per filter other than None, reused for every row: no allocation inside the loop.
  const candidates = [FILTER_SUB, FILTER_UP, FILTER_AVERAGE, FILTER_PAETH].map((filter) => ({
    filter,
    row: new Uint8Array(stride),
    score: 0,
  }));
  const [sub, up, average, paeth] = candidates as [Candidate, Candidate, Candidate, Candidate];
  for (let y = 0; y < height; y++) {
    const rowStart = y * stride;
    const previousStart = rowStart - stride;
    let noneScore = 0;
    for (const candidate of candidates) candidate.score = 0;
    for (let index = 0; index < stride; index++) {
      const value = pixels[rowStart + index] ?? 0;
      // Outside the image (left of the first pixel, above the first row) the format treats samples as zero.
      const left = index >= 4 ? (pixels[rowStart + index - 4] ?? 0) : 0;
      const above = y > 0 ? (pixels[previousStart + index] ?? 0) : 0;
      const aboveLeft = y > 0 && index >= 4 ? (pixels[previousStart + index - 4] ?? 0) : 0;
      noneScore += residualCost(value);
      sub.score += residualCost((sub.row[index] = (value - left) & 0xff));
      up.score += residualCost((up.row[index] = (value - above) & 0xff));
      average.score += residualCost((average.row[index] = (value - ((left + above) >> 1)) & 0xff));
      paeth.score += residualCost((paeth.row[index] = (value - paethPredictor(left, above, aboveLeft)) & 0xff));
    }
    const outputStart = y * (stride + 1);
    let best: Candidate | undefined;
    for (const candidate of candidates) {
      if (candidate.score < (best?.score ?? noneScore)) best = candidate;
    }
    if (best === undefined) {
      output[outputStart] = FILTER_NONE;
      output.set(pixels.subarray(rowStart, rowStart + stride), outputStart + 1);
    } else {
      output[outputStart] = best.filter;
      output.set(best.row, outputStart + 1);
    }
  }
  return output;
}

interface Candidate {
  readonly filter: number;
  readonly row: Uint8Array;
  score: number;
}

/** A residual byte read as a signed value, made absolute: small positive and small negative both cost little. */
function residualCost(byte: number): number {
  return byte < 128 ? byte : 256 - byte;
}

/** The Paeth predictor: whichever of left, above and above-left is closest to `left + above - aboveLeft`. */
function paethPredictor(left: number, above: number, aboveLeft: number): number {
  const estimate = left + above - aboveLeft;
  const toLeft = Math.abs(estimate - left);
  const toAbove = Math.abs(estimate - above);
  const toAboveLeft = Math.abs(estimate - aboveLeft);
  // The tie-break order (left, then above, then above-left) is part of the format, not a choice.
  if (toLeft <= toAbove && toLeft <= toAboveLeft) return left;
  if (toAbove <= toAboveLeft) return above;
  return aboveLeft;
}

interface PngHeader {
  readonly width: number;
  readonly height: number;
  readonly colorType: number;
  readonly channels: number;
}

/**
 * Decodes a PNG to RGBA. Supported: bit depth 8, color types 0, 2, 3, 4 and 6, no interlacing, any mix of the
 * five filters, image data split over any number of IDAT chunks, and tRNS transparency (palette alphas, or the
 * single transparent gray or RGB color). Ancillary chunks it does not need are skipped.
 *
 * Throws an `Error` for a missing signature, a bad CRC, a truncated file, 16-bit or sub-byte samples,
 * interlacing, an unknown critical chunk, or image data that does not match the header.
 */
export function decodePng(bytes: Uint8Array): RgbaImage {
  if (!hasPngSignature(bytes)) throw new Error("Not a PNG: the file does not start with the PNG signature");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let header: PngHeader | undefined;
  let palette: Uint8Array | undefined;
  let transparency: Uint8Array | undefined;
  const imageData: Uint8Array[] = [];
  let ended = false;

  let offset = SIGNATURE.length;
  while (!ended) {
    if (offset + 12 > bytes.length) throw new Error("PNG is truncated: it ends before the IEND chunk");
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    const dataStart = offset + 8;
    const dataEnd = dataStart + length;
    if (length > MAX_CHUNK_LENGTH || dataEnd + 4 > bytes.length) {
      throw new Error(`PNG is truncated: chunk ${JSON.stringify(type)} runs past the end of the file`);
    }
    if (crc32(bytes.subarray(offset + 4, dataEnd)) !== view.getUint32(dataEnd)) {
      throw new Error(`PNG is corrupt: chunk ${JSON.stringify(type)} fails its CRC check`);
    }
    const data = bytes.subarray(dataStart, dataEnd);
    offset = dataEnd + 4;

    if (header === undefined && type !== "IHDR") throw new Error("PNG is corrupt: IHDR is not the first chunk");
    switch (type) {
      case "IHDR":
        if (header !== undefined) throw new Error("PNG is corrupt: more than one IHDR chunk");
        header = readHeader(data);
        break;
      case "PLTE":
        if (data.length === 0 || data.length % 3 !== 0 || data.length > 256 * 3) {
          throw new Error(`PNG is corrupt: a PLTE chunk of ${data.length} bytes`);
        }
        palette = data;
        break;
      case "tRNS":
        transparency = data;
        break;
      case "IDAT":
        imageData.push(data);
        break;
      case "IEND":
        ended = true;
        break;
      default:
        // Bit 5 of the first type byte (lower case) marks an ancillary chunk, safe to skip; upper case means
        // critical, and the format says a decoder that does not understand one must give up.
        if ((type.charCodeAt(0) & 0x20) === 0) {
          throw new Error(`Unsupported PNG: unknown critical chunk ${JSON.stringify(type)}`);
        }
    }
  }
  if (header === undefined) throw new Error("PNG is corrupt: no IHDR chunk");
  if (header.colorType === COLOR_PALETTE && palette === undefined) {
    throw new Error("PNG is corrupt: a palette image without a PLTE chunk");
  }

  const stride = header.width * header.channels;
  const expectedLength = header.height * (stride + 1);
  let scanlines: Uint8Array;
  try {
    // Capping the output at the size the header promises stops a small "zip bomb" from exhausting memory.
    scanlines = inflateSync(Buffer.concat(imageData), { maxOutputLength: expectedLength });
  } catch (error) {
    throw new Error(
      `PNG is corrupt: its image data does not inflate to the ${expectedLength} bytes the header describes`,
      { cause: error },
    );
  }
  if (scanlines.length !== expectedLength) {
    throw new Error(`PNG is truncated: ${scanlines.length} bytes of image data where ${expectedLength} are needed`);
  }
  unfilter(scanlines, header.height, stride, header.channels);
  return {
    width: header.width,
    height: header.height,
    pixels: toRgba(scanlines, header, palette ?? new Uint8Array(0), transparency),
  };
}

function readHeader(data: Uint8Array): PngHeader {
  if (data.length !== 13) throw new Error(`PNG is corrupt: IHDR has ${data.length} bytes instead of 13`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const width = view.getUint32(0);
  const height = view.getUint32(4);
  const [bitDepth, colorType, compression, filterMethod, interlace] = data.subarray(8);
  if (width === 0 || height === 0) throw new Error(`PNG is corrupt: its size is ${width}x${height}`);
  assertImageSize(width, height);
  const channels = CHANNELS.get(colorType ?? -1);
  if (channels === undefined) throw new Error(`PNG is corrupt: unknown color type ${colorType ?? "?"}`);
  if (bitDepth !== 8) throw new Error(`Unsupported PNG: bit depth ${bitDepth ?? "?"} (only 8 is decoded)`);
  if (compression !== 0 || filterMethod !== 0) throw new Error("PNG is corrupt: unknown compression or filter method");
  if (interlace !== 0) throw new Error("Unsupported PNG: interlaced (Adam7) images are not decoded");
  return { width, height, colorType: colorType ?? -1, channels };
}

/**
 * Reverses the row filters in place. Each row is a filter byte followed by `stride` bytes; a filter predicts a
 * byte from its neighbours in the already-decoded output (left means the same channel of the previous pixel,
 * `channels` bytes back), so working left to right, top to bottom, in the same buffer is exactly what the
 * format intends. Sums wrap modulo 256, which writing into a Uint8Array does for us.
 */
function unfilter(scanlines: Uint8Array, height: number, stride: number, channels: number): void {
  for (let y = 0; y < height; y++) {
    const start = y * (stride + 1) + 1;
    const previous = start - (stride + 1); // Only read when y > 0.
    const filter = scanlines[start - 1];
    switch (filter) {
      case FILTER_NONE:
        break;
      case FILTER_SUB:
        for (let index = channels; index < stride; index++) {
          scanlines[start + index] = (scanlines[start + index] ?? 0) + (scanlines[start + index - channels] ?? 0);
        }
        break;
      case FILTER_UP:
        if (y === 0) break; // The row above the image is zeros, so Up is None there.
        for (let index = 0; index < stride; index++) {
          scanlines[start + index] = (scanlines[start + index] ?? 0) + (scanlines[previous + index] ?? 0);
        }
        break;
      case FILTER_AVERAGE:
        for (let index = 0; index < stride; index++) {
          const left = index >= channels ? (scanlines[start + index - channels] ?? 0) : 0;
          const above = y > 0 ? (scanlines[previous + index] ?? 0) : 0;
          scanlines[start + index] = (scanlines[start + index] ?? 0) + ((left + above) >> 1);
        }
        break;
      case FILTER_PAETH:
        for (let index = 0; index < stride; index++) {
          const left = index >= channels ? (scanlines[start + index - channels] ?? 0) : 0;
          const above = y > 0 ? (scanlines[previous + index] ?? 0) : 0;
          const aboveLeft = y > 0 && index >= channels ? (scanlines[previous + index - channels] ?? 0) : 0;
          scanlines[start + index] = (scanlines[start + index] ?? 0) + paethPredictor(left, above, aboveLeft);
        }
        break;
      default:
        throw new Error(`PNG is corrupt: row ${y} has unknown filter type ${filter ?? "?"}`);
    }
  }
}

/** Expands unfiltered scanlines of any supported color type to RGBA, applying tRNS transparency. */
function toRgba(
  scanlines: Uint8Array,
  header: PngHeader,
  palette: Uint8Array,
  transparency: Uint8Array | undefined,
): Uint8Array {
  const { width, height, colorType, channels } = header;
  const pixels = new Uint8Array(width * height * 4);
  // tRNS for gray and RGB images names one color (as 16-bit samples) that is fully transparent; -1 never matches.
  const transparentGray = colorType === COLOR_GRAY && transparency?.length === 2 ? readUint16(transparency, 0) : -1;
  const transparentRgb =
    colorType === COLOR_RGB && transparency?.length === 6
      ? [readUint16(transparency, 0), readUint16(transparency, 2), readUint16(transparency, 4)]
      : [-1, -1, -1];
  const [transparentRed, transparentGreen, transparentBlue] = transparentRgb as [number, number, number];
  const paletteSize = palette.length / 3;

  for (let y = 0; y < height; y++) {
    const rowSource = y * (width * channels + 1) + 1;
    const rowTarget = y * width * 4;
    if (colorType === COLOR_RGBA) {
      pixels.set(scanlines.subarray(rowSource, rowSource + width * 4), rowTarget);
      continue;
    }
    for (let x = 0, source = rowSource, target = rowTarget; x < width; x++, source += channels, target += 4) {
      const first = scanlines[source] ?? 0;
      switch (colorType) {
        case COLOR_GRAY:
          pixels[target] = pixels[target + 1] = pixels[target + 2] = first;
          pixels[target + 3] = first === transparentGray ? 0 : 255;
          break;
        case COLOR_GRAY_ALPHA:
          pixels[target] = pixels[target + 1] = pixels[target + 2] = first;
          pixels[target + 3] = scanlines[source + 1] ?? 0;
          break;
        case COLOR_RGB: {
          const green = scanlines[source + 1] ?? 0;
          const blue = scanlines[source + 2] ?? 0;
          pixels[target] = first;
          pixels[target + 1] = green;
          pixels[target + 2] = blue;
          const transparent = first === transparentRed && green === transparentGreen && blue === transparentBlue;
          pixels[target + 3] = transparent ? 0 : 255;
          break;
        }
        default: // COLOR_PALETTE
          if (first >= paletteSize) {
            throw new Error(`PNG is corrupt: pixel (${x}, ${y}) uses palette entry ${first} of ${paletteSize}`);
          }
          pixels[target] = palette[first * 3] ?? 0;
          pixels[target + 1] = palette[first * 3 + 1] ?? 0;
          pixels[target + 2] = palette[first * 3 + 2] ?? 0;
          // tRNS may list fewer alphas than there are palette entries; the rest are opaque.
          pixels[target + 3] = transparency?.[first] ?? 255;
      }
    }
  }
  return pixels;
}

function readUint16(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] ?? 0) << 8) | (bytes[offset + 1] ?? 0);
}
