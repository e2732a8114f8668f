import { loadSharp } from "./clean-image.ts";

/** A mask pixel at least this bright (after flattening on black) marks the region to change. */
const MASK_THRESHOLD = 128;

/**
 * Puts a model's edit back through the user's mask, whatever the model did with it: the result is resized to the
 * original's size and blended over the original, fully inside the mask (white), fading out over `featherPx`
 * pixels around it, and not at all beyond. Outside the mask and its feather band every pixel is the original's
 * decoded pixel, exactly (the weight there is 0, so the blend is the original value itself), and the result is
 * a PNG, so that survives storage byte for byte. Image models take no mask parameter and may repaint the whole
 * picture; this is what makes a masked edit a masked edit.
 */
export async function applyMask(
  original: Buffer,
  edited: Buffer,
  mask: Buffer,
  featherPx: number,
): Promise<{ readonly data: Buffer; readonly width: number; readonly height: number }> {
  const sharp = await loadSharp();
  const base = await sharp(original).autoOrient().ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const { width, height } = base.info;
  const [edit, region] = await Promise.all([
    sharp(edited).autoOrient().resize(width, height, { fit: "fill" }).ensureAlpha().raw().toBuffer(),
    sharp(mask)
      .autoOrient()
      .resize(width, height, { fit: "fill", kernel: "nearest" })
      .flatten({ background: "#000000" })
      .greyscale()
      .extractChannel(0)
      .raw()
      .toBuffer(),
  ]);
  const weight = featheredWeights(region, width, height, featherPx);
  const blended = Buffer.alloc(width * height * 4);
  for (let pixel = 0; pixel < width * height; pixel++) {
    const share = weight[pixel] ?? 0;
    for (let channel = pixel * 4; channel < pixel * 4 + 4; channel++) {
      const from = base.data[channel] ?? 0;
      blended[channel] = share === 0 ? from : Math.round(from + ((edit[channel] ?? 0) - from) * share);
    }
  }
  const data = await sharp(blended, { raw: { width, height, channels: 4 } })
    .png()
    .toBuffer();
  return { data, width, height };
}

/**
 * How much of the edit each pixel takes: 1 inside the mask; `1 - d / (featherPx + 1)` at chessboard distance `d`
 * (1..featherPx) from it; 0 beyond. Distances come from the classic two-pass sweep, linear in the pixel count.
 */
function featheredWeights(region: Buffer, width: number, height: number, featherPx: number): Float32Array {
  const far = featherPx + 1;
  const distance = new Uint16Array(width * height);
  for (let index = 0; index < distance.length; index++) {
    distance[index] = (region[index] ?? 0) >= MASK_THRESHOLD ? 0 : far;
  }
  const at = (x: number, y: number) =>
    x < 0 || y < 0 || x >= width || y >= height ? far : (distance[y * width + x] ?? far);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const index = y * width + x;
      const nearest = Math.min(at(x - 1, y), at(x - 1, y - 1), at(x, y - 1), at(x + 1, y - 1)) + 1;
      if (nearest < (distance[index] ?? far)) distance[index] = nearest;
    }
  }
  for (let y = height - 1; y >= 0; y--) {
    for (let x = width - 1; x >= 0; x--) {
      const index = y * width + x;
      const nearest = Math.min(at(x + 1, y), at(x + 1, y + 1), at(x, y + 1), at(x - 1, y + 1)) + 1;
      if (nearest < (distance[index] ?? far)) distance[index] = nearest;
    }
  }
  const weight = new Float32Array(width * height);
  for (let index = 0; index < weight.length; index++) {
    const away = distance[index] ?? far;
    weight[index] = away === 0 ? 1 : away <= featherPx ? 1 - away / far : 0;
  }
  return weight;
}
