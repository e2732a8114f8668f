import { loadSharp } from "./clean-image.ts";

/**
 * A small WebP of a picture for lists and previews: longest side at most `maxSide` (never enlarged), no metadata.
 * A chat of several 2 MB pictures then loads in kilobytes; the full picture stays one tap away.
 */
export async function thumbnail(
  picture: Buffer,
  maxSide: number,
): Promise<{ readonly data: Buffer; readonly width: number; readonly height: number }> {
  const sharp = await loadSharp();
  const { data, info } = await sharp(picture)
    .resize({ width: maxSide, height: maxSide, fit: "inside", withoutEnlargement: true })
    .webp({ quality: 80 })
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}
