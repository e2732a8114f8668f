import { createHash } from "node:crypto";
import type { VideoFrameSource } from "./mp4-video.ts";

/**
 * Small defaults for simulated clips. Encoded with `encodeMp4` (uncompressed I_PCM), a clip is about
 * `frames × width × height × 1.5` bytes: 16 frames of 320x192 come to roughly 1.5 MB.
 */
export const SIMULATED_VIDEO_DEFAULTS = { width: 320, height: 192, seconds: 2, framesPerSecond: 8 } as const;

/** Progress bar colours (opaque RGBA), ready to copy into a frame with `Uint8Array.set`. */
const PROGRESS_FILLED = Uint8Array.of(240, 240, 240, 255);
const PROGRESS_TRACK = Uint8Array.of(40, 40, 40, 255);

/**
 * Frames for the offline ("simulated") video provider: a deterministic animation derived from the prompt's SHA-256,
 * so different prompts give visibly different clips and the same prompt always gives the same one. A disc crosses a
 * two-colour gradient along a wave, and a bar along the bottom edge shows the frame's progress through the clip.
 *
 * The frame count is `round(seconds × framesPerSecond)`, at least 1. Keep the size small (see
 * `SIMULATED_VIDEO_DEFAULTS`): `encodeMp4` output is uncompressed, about `frames × width × height × 1.5` bytes.
 *
 * @throws RangeError when the width or height is not a positive integer, or seconds or the frame rate is not
 *   positive. (`encodeMp4` additionally needs multiples of 16.)
 */
export function simulatedVideoFrames(
  prompt: string,
  width: number,
  height: number,
  seconds: number,
  framesPerSecond: number,
): VideoFrameSource {
  if (!Number.isInteger(width) || width <= 0 || !Number.isInteger(height) || height <= 0) {
    throw new RangeError(`Video size must be positive integers, got ${width}x${height}.`);
  }
  if (!(seconds > 0 && Number.isFinite(seconds) && framesPerSecond > 0 && Number.isFinite(framesPerSecond))) {
    throw new RangeError(`Video duration and frame rate must be positive, got ${seconds} s at ${framesPerSecond} fps.`);
  }
  const frameCount = Math.max(1, Math.round(seconds * framesPerSecond));
  const digest = createHash("sha256").update(prompt).digest();
  const fraction = (offset: number): number => digest.readUInt8(offset) / 255;

  // Hues spread over the whole circle; the disc takes roughly the complementary hue so it stands out.
  const hue = fraction(0) * 360;
  const topColour = hsvToRgb(hue, 0.55 + 0.3 * fraction(1), 0.45 + 0.3 * fraction(2));
  const bottomColour = hsvToRgb(hue + 30 + 60 * fraction(3), 0.6 + 0.3 * fraction(4), 0.12 + 0.2 * fraction(5));
  const discColour = hsvToRgb(hue + 150 + 60 * fraction(6), 0.65 + 0.3 * fraction(7), 0.9 + 0.1 * fraction(8));
  const barHeight = Math.max(2, Math.round(height / 24));
  const radius = Math.max(1, Math.min(width, height) * (0.1 + 0.1 * fraction(9)));
  const phase = fraction(10) * 2 * Math.PI;
  const waves = 1 + Math.floor(fraction(11) * 2);
  const amplitude = Math.max(0, (height - barHeight) / 2 - radius);
  const rightToLeft = fraction(12) >= 0.5;

  return {
    width,
    height,
    frameCount,
    framesPerSecond,
    drawFrame(index: number, rgba: Uint8Array): void {
      if (!Number.isInteger(index) || index < 0 || index >= frameCount) {
        throw new RangeError(`Frame index ${index} is outside 0..${frameCount - 1}.`);
      }
      if (rgba.length !== width * height * 4) {
        throw new RangeError(`Frame buffer must be ${width * height * 4} bytes, got ${rgba.length}.`);
      }
      const progress = frameCount > 1 ? index / (frameCount - 1) : 0.5;
      const travel = rightToLeft ? 1 - progress : progress;
      const centreX = radius + travel * Math.max(0, width - 2 * radius);
      const centreY = (height - barHeight) / 2 + amplitude * Math.sin(phase + progress * waves * 2 * Math.PI);
      const filledWidth = Math.round(((index + 1) / frameCount) * width);

      for (let y = 0; y < height; y++) {
        const rowStart = y * width;
        if (y >= height - barHeight) {
          fillPixels(rgba, PROGRESS_FILLED, rowStart, rowStart + filledWidth);
          fillPixels(rgba, PROGRESS_TRACK, rowStart + filledWidth, rowStart + width);
          continue;
        }
        fillPixels(rgba, mix(topColour, bottomColour, height > 1 ? y / (height - 1) : 0), rowStart, rowStart + width);
        // Pixel centres (x + 0.5, y + 0.5) inside the disc form one run per row.
        const distanceY = y + 0.5 - centreY;
        const halfChord = Math.sqrt(radius * radius - distanceY * distanceY);
        if (Number.isNaN(halfChord)) continue;
        const first = Math.max(0, Math.ceil(centreX - halfChord - 0.5));
        const last = Math.min(width - 1, Math.floor(centreX + halfChord - 0.5));
        if (first <= last) fillPixels(rgba, discColour, rowStart + first, rowStart + last + 1);
      }
    },
  };
}

/** Paints pixels `start` (inclusive) to `end` (exclusive) by doubling copies of the first one. */
function fillPixels(rgba: Uint8Array, colour: Uint8Array, start: number, end: number): void {
  if (start >= end) return;
  rgba.set(colour, start * 4);
  for (let filled = 1; filled < end - start; filled *= 2) {
    rgba.copyWithin((start + filled) * 4, start * 4, (start + Math.min(filled, end - start - filled)) * 4);
  }
}

/** Opaque RGBA colour from a hue in degrees (any value, wrapped), saturation and value in 0..1. */
function hsvToRgb(hue: number, saturation: number, value: number): Uint8Array {
  const wrapped = ((hue % 360) + 360) % 360;
  const channel = (shift: number): number => {
    const position = (shift + wrapped / 60) % 6;
    const weight = Math.max(0, Math.min(position, 4 - position, 1));
    return Math.round(255 * value * (1 - saturation * weight));
  };
  return Uint8Array.of(channel(5), channel(3), channel(1), 255);
}

/** Linear blend of two RGBA colours, `amount` 0 giving `from` and 1 giving `to`. */
function mix(from: Uint8Array, to: Uint8Array, amount: number): Uint8Array {
  return from.map((channel, index) => Math.round(channel + ((to[index] ?? channel) - channel) * amount));
}
