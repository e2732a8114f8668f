/**
 * The in-memory picture every media helper speaks: straight (not premultiplied) 8-bit RGBA, row-major, top row
 * first, four bytes per pixel, no padding between rows.
 */
export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  /** `width * height * 4` bytes: red, green, blue, alpha for each pixel in turn. */
  readonly pixels: Uint8Array;
}

/**
 * The largest side accepted anywhere in the media helpers. PNG allows 2^31 - 1, but a side that large can only
 * come from a hostile or corrupt header, and refusing it early keeps us from trying to allocate gigabytes.
 */
const MAX_IMAGE_SIDE = 32_768;

/** Likewise for the pixel count: 64 megapixels (256 MiB of RGBA) is far beyond anything Atelier generates. */
const MAX_IMAGE_PIXELS = 64 * 1024 * 1024;

/** Throws unless `width` x `height` is a size the media helpers accept. */
export function assertImageSize(width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`Image size must be positive integers, got ${width}x${height}`);
  }
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE || width * height > MAX_IMAGE_PIXELS) {
    throw new Error(`Image size ${width}x${height} is larger than supported`);
  }
}

/** Throws unless the image has an accepted size and exactly `width * height * 4` pixel bytes. */
export function assertRgbaImage(image: RgbaImage): void {
  assertImageSize(image.width, image.height);
  const expected = image.width * image.height * 4;
  if (image.pixels.length !== expected) {
    throw new Error(
      `A ${image.width}x${image.height} RGBA image needs ${expected} pixel bytes, got ${image.pixels.length}`,
    );
  }
}
