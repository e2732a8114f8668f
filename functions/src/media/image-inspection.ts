/**
 * Identifies an image and reads its size from the header alone, without decoding a pixel: cheap enough to run
 * on every upload before deciding whether to hand it to the decoder (which then checks every byte). The input is untrusted, so every read is bounds-checked
 * first and anything short, inconsistent or unknown yields `undefined` rather than an exception.
 */

/** The image types Atelier accepts. */
type ImageMimeType = "image/png" | "image/jpeg" | "image/webp";

/** What {@link inspectImage} learns from a header. */
export interface ImageInfo {
  readonly mimeType: ImageMimeType;
  readonly width: number;
  readonly height: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function hasPngSignature(bytes: Uint8Array): boolean {
  return bytes.length >= PNG_SIGNATURE.length && PNG_SIGNATURE.every((byte, index) => bytes[index] === byte);
}

/** PNG stores sides as 31-bit values; JPEG and WebP cannot exceed this either. */
const MAX_SIDE = 0x7fffffff;

/**
 * The type (by magic bytes, whatever the file name or declared type says) and pixel size of a PNG, JPEG or
 * WebP image; `undefined` for any other type, or when the header is truncated or corrupt.
 */
export function inspectImage(bytes: Uint8Array): ImageInfo | undefined {
  const reader = new ByteReader(bytes);
  if (hasPngSignature(bytes)) return inspectPng(reader);
  if (reader.uint8(0) === 0xff && reader.uint8(1) === 0xd8 && reader.uint8(2) === 0xff) return inspectJpeg(reader);
  if (reader.ascii(0, 4) === "RIFF" && reader.ascii(8, 4) === "WEBP") return inspectWebp(reader);
  return undefined;
}

/**
 * Reads that answer `undefined` past the end instead of throwing, so each format parser can check a whole
 * header with a single `undefined` test.
 */
class ByteReader {
  readonly #bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  get length(): number {
    return this.#bytes.length;
  }

  uint8(offset: number): number | undefined {
    return this.#bytes[offset];
  }

  uint16BigEndian(offset: number): number | undefined {
    const [high, low] = this.#slice(offset, 2);
    return high === undefined || low === undefined ? undefined : (high << 8) | low;
  }

  uint32BigEndian(offset: number): number | undefined {
    const high = this.uint16BigEndian(offset);
    const low = this.uint16BigEndian(offset + 2);
    return high === undefined || low === undefined ? undefined : high * 0x10000 + low;
  }

  uint16LittleEndian(offset: number): number | undefined {
    const [low, high] = this.#slice(offset, 2);
    return high === undefined || low === undefined ? undefined : (high << 8) | low;
  }

  uint24LittleEndian(offset: number): number | undefined {
    const low = this.uint16LittleEndian(offset);
    const high = this.uint8(offset + 2);
    return high === undefined || low === undefined ? undefined : high * 0x10000 + low;
  }

  uint32LittleEndian(offset: number): number | undefined {
    const low = this.uint16LittleEndian(offset);
    const high = this.uint16LittleEndian(offset + 2);
    return high === undefined || low === undefined ? undefined : high * 0x10000 + low;
  }

  /** The `length` bytes at `offset` as Latin-1 text, or `undefined` if they are not all there. */
  ascii(offset: number, length: number): string | undefined {
    const slice = this.#slice(offset, length);
    return slice.length === length ? String.fromCharCode(...slice) : undefined;
  }

  #slice(offset: number, length: number): Uint8Array {
    return offset < 0 ? new Uint8Array(0) : this.#bytes.subarray(offset, offset + length);
  }
}

function info(mimeType: ImageMimeType, width: number | undefined, height: number | undefined): ImageInfo | undefined {
  if (width === undefined || height === undefined) return undefined;
  if (width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE) return undefined;
  return { mimeType, width, height };
}

/** PNG: the signature, then IHDR, which the format requires to be first: length 13, "IHDR", width, height. */
function inspectPng(reader: ByteReader): ImageInfo | undefined {
  if (reader.uint32BigEndian(8) !== 13 || reader.ascii(12, 4) !== "IHDR") return undefined;
  return info("image/png", reader.uint32BigEndian(16), reader.uint32BigEndian(20));
}

/**
 * JPEG: a sequence of segments, each `FF`, a marker byte, and (for most markers) a 2-byte big-endian length
 * that counts itself but not the marker. The size lives in the first start-of-frame segment (SOFn), which a
 * valid file places before its first scan; we hop from segment to segment until we reach it.
 */
function inspectJpeg(reader: ByteReader): ImageInfo | undefined {
  let offset = 2; // Past SOI (FF D8).
  while (offset < reader.length) {
    if (reader.uint8(offset) !== 0xff) return undefined; // Every segment must start with FF.
    // Any number of FF fill bytes may pad the gap before a marker.
    while (reader.uint8(offset) === 0xff) offset++;
    const marker = reader.uint8(offset);
    offset++;
    if (marker === undefined) return undefined;
    // TEM, RST0-7 and a repeated SOI stand alone: no length, no payload.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) continue;
    // FF 00 is only meaningful inside scan data; end of image or a scan before any frame header means no size.
    if (marker === 0x00 || marker === 0xd9 || marker === 0xda) return undefined;
    const length = reader.uint16BigEndian(offset);
    if (length === undefined || length < 2) return undefined;
    if (isStartOfFrame(marker)) {
      // Payload: sample precision (1 byte), number of lines (2), samples per line (2), component count (1).
      // A height of 0 means "given later by a DNL segment" after the first scan; we do not chase that.
      if (length < 8) return undefined;
      return info("image/jpeg", reader.uint16BigEndian(offset + 5), reader.uint16BigEndian(offset + 3));
    }
    offset += length;
  }
  return undefined;
}

/**
 * SOF0-SOF15 are C0-CF, except C4 (define Huffman tables), C8 (reserved for extensions) and CC (define
 * arithmetic coding conditioning), which share the range but are not frame headers.
 */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/**
 * WebP: a RIFF container ("RIFF", size, "WEBP") whose first chunk says which of three layouts follows. Chunk
 * headers are a FourCC and a little-endian 32-bit payload size; the payload starts at offset 20.
 * Reference: https://developers.google.com/speed/webp/docs/riff_container
 */
function inspectWebp(reader: ByteReader): ImageInfo | undefined {
  const chunkType = reader.ascii(12, 4);
  const chunkSize = reader.uint32LittleEndian(16);
  if (chunkSize === undefined) return undefined;
  const payload = 20;
  /** Only trust fields that the chunk claims as its own and that are actually present. */
  const has = (bytes: number): boolean => chunkSize >= bytes && reader.length >= payload + bytes;

  switch (chunkType) {
    case "VP8 ": {
      // Lossy (RFC 6386, 9.1): a 3-byte frame tag whose lowest bit is 0 for a key frame, the start code
      // 9D 01 2A, then 16-bit little-endian width and height whose top 2 bits are an upscaling hint.
      if (!has(10)) return undefined;
      const isKeyFrame = ((reader.uint8(payload) ?? 1) & 0x01) === 0;
      const startCode =
        reader.uint8(payload + 3) === 0x9d && reader.uint8(payload + 4) === 0x01 && reader.uint8(payload + 5) === 0x2a;
      if (!isKeyFrame || !startCode) return undefined;
      const width = reader.uint16LittleEndian(payload + 6);
      const height = reader.uint16LittleEndian(payload + 8);
      if (width === undefined || height === undefined) return undefined;
      return info("image/webp", width & 0x3fff, height & 0x3fff);
    }
    case "VP8L": {
      // Lossless: the signature byte 2F, then a little-endian bit stream: 14 bits width - 1, 14 bits
      // height - 1, 1 bit "alpha is used", and a 3-bit version that must be 0.
      if (!has(5) || reader.uint8(payload) !== 0x2f) return undefined;
      const bits = reader.uint32LittleEndian(payload + 1);
      if (bits === undefined || bits >>> 29 !== 0) return undefined;
      return info("image/webp", (bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
    }
    case "VP8X": {
      // Extended (animation, alpha, metadata): 1 byte of flags, 3 reserved bytes, then the canvas width - 1 and
      // height - 1 as 24-bit little-endian values. The format caps width x height at 2^32 - 1.
      if (!has(10)) return undefined;
      const width = reader.uint24LittleEndian(payload + 4);
      const height = reader.uint24LittleEndian(payload + 7);
      if (width === undefined || height === undefined || (width + 1) * (height + 1) > 0xffffffff) return undefined;
      return info("image/webp", width + 1, height + 1);
    }
    default:
      return undefined;
  }
}
