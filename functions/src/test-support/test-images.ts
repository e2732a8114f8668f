import sharp from "sharp";

/** Pictures for tests, made and read with sharp (the library the product uses), never by hand. */

export interface Rgb {
  readonly r: number;
  readonly g: number;
  readonly b: number;
}

/** A PNG of one colour. */
export function solidPng(width: number, height: number, colour: Rgb = { r: 20, g: 40, b: 200 }): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 4, background: { ...colour, alpha: 1 } } })
    .png()
    .toBuffer();
}

/** A PNG with a smooth gradient and detail, so that any change to a pixel shows. */
export function patternedPng(width: number, height: number): Promise<Buffer> {
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${String(width)}" height="${String(height)}">` +
    `<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#1030c0"/>` +
    `<stop offset="1" stop-color="#e0a020"/></linearGradient></defs><rect width="100%" height="100%" fill="url(#g)"/>` +
    `<circle cx="${String(width / 3)}" cy="${String(height / 2)}" r="${String(height / 4)}" fill="#20c060"/></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/** A mask of the contract's convention: white inside `region` (the part to change), black elsewhere. */
export function maskPng(
  width: number,
  height: number,
  region: { readonly left: number; readonly top: number; readonly width: number; readonly height: number },
): Promise<Buffer> {
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${String(width)}" height="${String(height)}" shape-rendering="crispEdges">` +
    `<rect width="100%" height="100%" fill="black"/><rect x="${String(region.left)}" y="${String(region.top)}" ` +
    `width="${String(region.width)}" height="${String(region.height)}" fill="white"/></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/** A JPEG carrying EXIF metadata: a camera, a GPS position and an orientation of 6 (rotated 90° clockwise). */
export function jpegWithExif(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 120, b: 40 } } })
    .jpeg()
    .withMetadata({ orientation: 6 })
    .withExifMerge({
      IFD0: { Make: "AtelierTestCam", Model: "Serial 12345" },
      IFD3: { GPSLatitudeRef: "N", GPSLatitude: "48/1 51/1 24/1", GPSLongitudeRef: "E", GPSLongitude: "2/1 21/1 3/1" },
    })
    .toBuffer();
}

/** Every pixel as RGBA, to compare pictures exactly. */
export async function decodeRgba(bytes: Buffer): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(bytes).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}
