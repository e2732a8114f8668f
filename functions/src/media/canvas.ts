import { createHash } from "node:crypto";
import { GLYPH_HEIGHT, GLYPH_WIDTH, glyphFor } from "./bitmap-font.ts";
import { assertImageSize, assertRgbaImage } from "./rgba-image.ts";
import type { RgbaImage } from "./rgba-image.ts";

/**
 * A tiny raster canvas over {@link RgbaImage}: just enough drawing (rectangles, circles, gradients, bitmap text,
 * alpha blending) to paint the stand-in pictures the simulated image provider returns. Drawing functions
 * modify the image's pixels in place and clip to its bounds, so shapes may hang over any edge.
 */

/** A straight (not premultiplied) RGBA color; each channel 0-255, alpha 255 being opaque. */
export interface Color {
  readonly r: number;
  readonly g: number;
  readonly b: number;
  readonly a: number;
}

/** Which way a gradient runs: top to bottom, left to right, or top-left corner to bottom-right corner. */
type GradientDirection = "vertical" | "horizontal" | "diagonal";

/** The size of text drawn by {@link drawText}, in pixels. */
interface TextSize {
  readonly width: number;
  readonly height: number;
}

const TRANSPARENT: Color = { r: 0, g: 0, b: 0, a: 0 };

/** Each character cell is the glyph plus one column (and each line one row) of spacing, at scale 1. */
const CELL_WIDTH = GLYPH_WIDTH + 1;
const LINE_HEIGHT = GLYPH_HEIGHT + 1;

/** A new `width` x `height` image filled with `color` (transparent black when omitted). */
export function createCanvas(width: number, height: number, color: Color = TRANSPARENT): RgbaImage {
  assertImageSize(width, height);
  const pixels = new Uint8Array(width * height * 4);
  const [red, green, blue, alpha] = channels(color);
  if (red !== 0 || green !== 0 || blue !== 0 || alpha !== 0) {
    for (let offset = 0; offset < pixels.length; offset += 4) {
      pixels[offset] = red;
      pixels[offset + 1] = green;
      pixels[offset + 2] = blue;
      pixels[offset + 3] = alpha;
    }
  }
  return { width, height, pixels };
}

/**
 * Paints `color` over the pixel at (`x`, `y`) with "source over" compositing, its alpha scaled by `coverage`
 * (0-1, for anti-aliased edges). Does nothing outside the image.
 */
export function blendPixel(image: RgbaImage, x: number, y: number, color: Color, coverage = 1): void {
  if (!Number.isInteger(x) || !Number.isInteger(y) || x < 0 || y < 0 || x >= image.width || y >= image.height) return;
  const [red, green, blue, alpha] = channels(color);
  blendAt(image.pixels, (y * image.width + x) * 4, red, green, blue, (alpha / 255) * coverage);
}

/** Fills the rectangle whose top-left corner is (`x`, `y`); edges are rounded to whole pixels. */
export function fillRect(image: RgbaImage, x: number, y: number, width: number, height: number, color: Color): void {
  const [red, green, blue, alpha] = channels(color);
  fillBox(image, Math.round(x), Math.round(y), Math.round(x + width), Math.round(y + height), red, green, blue, alpha);
}

/**
 * Fills a circle, anti-aliased: a pixel whose centre lies within half a pixel of the edge gets partial
 * coverage, which keeps the simulated pictures from looking jagged at no real cost.
 */
export function fillCircle(image: RgbaImage, centerX: number, centerY: number, radius: number, color: Color): void {
  if (!(radius > 0)) return;
  const [red, green, blue, alpha] = channels(color);
  const opacity = alpha / 255;
  const left = Math.max(0, Math.floor(centerX - radius - 1));
  const right = Math.min(image.width, Math.ceil(centerX + radius + 1));
  const top = Math.max(0, Math.floor(centerY - radius - 1));
  const bottom = Math.min(image.height, Math.ceil(centerY + radius + 1));
  for (let y = top; y < bottom; y++) {
    const dy = y + 0.5 - centerY;
    for (let x = left; x < right; x++) {
      const dx = x + 0.5 - centerX;
      const coverage = Math.min(1, radius + 0.5 - Math.sqrt(dx * dx + dy * dy));
      if (coverage > 0) blendAt(image.pixels, (y * image.width + x) * 4, red, green, blue, opacity * coverage);
    }
  }
}

/**
 * Fills the whole image with a linear gradient from `start` to `end` (all four channels interpolated), blended
 * over what is there; with opaque colors it simply replaces it.
 */
export function fillLinearGradient(
  image: RgbaImage,
  start: Color,
  end: Color,
  direction: GradientDirection = "vertical",
): void {
  const { width, height, pixels } = image;
  const [startRed, startGreen, startBlue, startAlpha] = channels(start);
  const [endRed, endGreen, endBlue, endAlpha] = channels(end);
  // Position along the gradient is (x * xWeight + y * yWeight) / span, running from 0 to exactly 1.
  const xWeight = direction === "vertical" ? 0 : 1;
  const yWeight = direction === "horizontal" ? 0 : 1;
  const span = Math.max(1, (width - 1) * xWeight + (height - 1) * yWeight);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const position = (x * xWeight + y * yWeight) / span;
      blendAt(
        pixels,
        (y * width + x) * 4,
        startRed + (endRed - startRed) * position,
        startGreen + (endGreen - startGreen) * position,
        startBlue + (endBlue - startBlue) * position,
        (startAlpha + (endAlpha - startAlpha) * position) / 255,
      );
    }
  }
}

/**
 * The pixel size {@link drawText} covers for `text` at `scale`: lines split at "\n", each character a 5x7 glyph
 * with one column of spacing between characters and one row between lines (none after the last).
 */
export function measureText(text: string, scale: number): TextSize {
  const pixelSize = toScale(scale);
  const lines = text.split("\n");
  const longest = lines.reduce((most, line) => Math.max(most, characters(line).length), 0);
  return {
    width: longest === 0 ? 0 : (longest * CELL_WIDTH - 1) * pixelSize,
    height: (lines.length * LINE_HEIGHT - 1) * pixelSize,
  };
}

/**
 * Draws `text` with its top-left corner at (`x`, `y`) in the built-in 5x7 font, each font pixel a `scale` x
 * `scale` square (scale is rounded down to a whole number, at least 1). "\n" starts a new line; lower case is
 * drawn as upper case; a character the font lacks (each grapheme cluster counts as one) is drawn as a small box.
 */
export function drawText(image: RgbaImage, text: string, x: number, y: number, scale: number, color: Color): void {
  const pixelSize = toScale(scale);
  const [red, green, blue, alpha] = channels(color);
  const left = Math.round(x);
  let top = Math.round(y);
  for (const line of text.split("\n")) {
    let cellLeft = left;
    for (const character of characters(line)) {
      const rows = glyphFor(character);
      rows.forEach((bits, row) => {
        for (let column = 0; column < GLYPH_WIDTH; column++) {
          if ((bits >> (GLYPH_WIDTH - 1 - column)) & 1) {
            const pixelLeft = cellLeft + column * pixelSize;
            const pixelTop = top + row * pixelSize;
            fillBox(image, pixelLeft, pixelTop, pixelLeft + pixelSize, pixelTop + pixelSize, red, green, blue, alpha);
          }
        }
      });
      cellLeft += CELL_WIDTH * pixelSize;
    }
    top += LINE_HEIGHT * pixelSize;
  }
}

/**
 * Breaks `text` into at most `maxLines` lines of at most `maxCharacters` characters, at whitespace where it
 * can (a word longer than a line is split). If the text does not fit, the last line ends with "...".
 */
export function wrapText(text: string, maxCharacters: number, maxLines: number): string[] {
  if (maxCharacters < 1 || maxLines < 1) return [];
  const lines: string[] = [];
  let current: string[] = [];
  for (const word of text.split(/\s+/).filter((part) => part !== "")) {
    if (lines.length > maxLines) break; // Enough to know it will be truncated; skip the rest of a long prompt.
    const letters = characters(word);
    for (let start = 0; start < letters.length; start += maxCharacters) {
      const piece = letters.slice(start, start + maxCharacters);
      if (current.length > 0 && current.length + 1 + piece.length <= maxCharacters) {
        current.push(" ", ...piece);
      } else {
        if (current.length > 0) lines.push(current.join(""));
        current = piece;
      }
    }
  }
  if (current.length > 0) lines.push(current.join(""));
  if (lines.length <= maxLines) return lines;

  const kept = lines.slice(0, maxLines);
  const last = characters(kept[maxLines - 1] ?? "");
  const ellipsis = "...".slice(0, maxCharacters);
  const room = maxCharacters - ellipsis.length;
  kept[maxLines - 1] = last.slice(0, room).join("").trimEnd() + ellipsis;
  return kept;
}

/**
 * A deterministic stand-in for a generated picture: a two-color gradient, a handful of translucent circles and
 * rectangles, the prompt itself on a dark translucent band, and a "SIMULATED" tag so nobody mistakes it for a
 * real result. Everything is seeded from the SHA-256 of the prompt, so the same prompt always gives the same
 * bytes and different prompts give visibly different pictures.
 */
export function renderPromptImage(prompt: string, width: number, height: number): RgbaImage {
  assertImageSize(width, height);
  const random = seededRandom(createHash("sha256").update(prompt).digest());
  const shortSide = Math.min(width, height);
  const image = createCanvas(width, height);

  const hue = random() * 360;
  const direction = random() < 0.5 ? "vertical" : "diagonal";
  fillLinearGradient(image, hsl(hue, 0.55, 0.25), hsl(hue + 60 + random() * 120, 0.6, 0.6), direction);

  const shapeCount = 5 + Math.floor(random() * 4);
  for (let shape = 0; shape < shapeCount; shape++) {
    const color = { ...hsl(random() * 360, 0.65, 0.55), a: 110 + Math.floor(random() * 100) };
    const centerX = random() * width;
    const centerY = random() * height;
    const size = shortSide * (0.08 + random() * 0.22);
    if (random() < 0.5) {
      fillCircle(image, centerX, centerY, size, color);
    } else {
      const aspect = 0.5 + random() * 1.5;
      fillRect(image, centerX - size * aspect, centerY - size, size * aspect * 2, size * 2, color);
    }
  }

  // Text scale grows with the picture so a 1024 px image stays legible; margins are in font pixels.
  const scale = Math.max(1, Math.round(shortSide / 200));
  const padding = 4 * scale;
  const maxCharacters = Math.floor((width - 2 * padding + scale) / (CELL_WIDTH * scale));
  const maxLines = Math.max(1, Math.min(4, Math.floor((height / 3 - 2 * padding) / (LINE_HEIGHT * scale))));
  const lines = wrapText(prompt, maxCharacters, maxLines);
  if (lines.length > 0) {
    const text = lines.join("\n");
    const band = measureText(text, scale).height + 2 * padding;
    const bandTop = height - band - padding;
    fillRect(image, 0, bandTop, width, band, { r: 0, g: 0, b: 0, a: 140 });
    drawText(image, text, padding, bandTop + padding, scale, { r: 255, g: 255, b: 255, a: 255 });
  }

  const labelScale = Math.max(1, scale - 1);
  const label = measureText("SIMULATED", labelScale);
  fillRect(image, padding, padding, label.width + 4 * labelScale, label.height + 4 * labelScale, {
    r: 0,
    g: 0,
    b: 0,
    a: 160,
  });
  drawText(image, "SIMULATED", padding + 2 * labelScale, padding + 2 * labelScale, labelScale, {
    r: 255,
    g: 214,
    b: 10,
    a: 255,
  });
  return image;
}

/**
 * Simulated inpainting: wherever `mask` is "on" (luminance above 127 and alpha above 0, i.e. white-ish paint)
 * the result shows {@link renderPromptImage} for `prompt` at the same pixel; everywhere else it is the original,
 * byte for byte. Throws when the mask and the original differ in size.
 */
export function applyMaskedEdit(original: RgbaImage, mask: RgbaImage, prompt: string): RgbaImage {
  assertRgbaImage(original);
  assertRgbaImage(mask);
  if (mask.width !== original.width || mask.height !== original.height) {
    throw new Error(`The mask is ${mask.width}x${mask.height} but the image is ${original.width}x${original.height}`);
  }
  const edit = renderPromptImage(prompt, original.width, original.height).pixels;
  const pixels = Uint8Array.from(original.pixels);
  for (let offset = 0; offset < pixels.length; offset += 4) {
    // Rec. 601 luma weights in integer form: 299 + 587 + 114 = 1000.
    const luminance =
      (299 * (mask.pixels[offset] ?? 0) + 587 * (mask.pixels[offset + 1] ?? 0) + 114 * (mask.pixels[offset + 2] ?? 0)) /
      1000;
    if (luminance > 127 && (mask.pixels[offset + 3] ?? 0) > 0) {
      pixels[offset] = edit[offset] ?? 0;
      pixels[offset + 1] = edit[offset + 1] ?? 0;
      pixels[offset + 2] = edit[offset + 2] ?? 0;
      pixels[offset + 3] = edit[offset + 3] ?? 0;
    }
  }
  return { width: original.width, height: original.height, pixels };
}

/** A color's channels clamped to whole numbers in 0-255 (a Uint8Array would otherwise wrap 256 to 0). */
function channels(color: Color): [number, number, number, number] {
  return [toByte(color.r), toByte(color.g), toByte(color.b), toByte(color.a)];
}

function toByte(value: number): number {
  return Number.isNaN(value) ? 0 : Math.min(255, Math.max(0, Math.round(value)));
}

function toScale(scale: number): number {
  return Number.isFinite(scale) ? Math.max(1, Math.floor(scale)) : 1;
}

const GRAPHEMES = new Intl.Segmenter();

/**
 * Splits text into what a reader sees as characters (grapheme clusters), so an emoji built of several code
 * points, or a letter with a combining accent, takes one cell, is never cut in half when wrapping, and is
 * measured the same way it is drawn.
 */
function characters(text: string): string[] {
  return Array.from(GRAPHEMES.segment(text), (part) => part.segment);
}

/** Fills the pixels with left <= x < right and top <= y < bottom (clipped to the image) with one color. */
function fillBox(
  image: RgbaImage,
  left: number,
  top: number,
  right: number,
  bottom: number,
  red: number,
  green: number,
  blue: number,
  alpha: number,
): void {
  const opacity = alpha / 255;
  const fromX = Math.max(0, left);
  const toX = Math.min(image.width, right);
  for (let y = Math.max(0, top); y < Math.min(image.height, bottom); y++) {
    for (let x = fromX; x < toX; x++) blendAt(image.pixels, (y * image.width + x) * 4, red, green, blue, opacity);
  }
}

/**
 * "Source over" for straight alpha, on one pixel at byte `offset`: the result's alpha is
 * `source + destination * (1 - source)`, and its color the alpha-weighted mix of the two, divided back out by
 * that alpha. Channels arrive as numbers (not a Color) so the hot loops allocate nothing.
 */
function blendAt(pixels: Uint8Array, offset: number, red: number, green: number, blue: number, opacity: number): void {
  if (opacity <= 0) return;
  if (opacity >= 1) {
    pixels[offset] = Math.round(red);
    pixels[offset + 1] = Math.round(green);
    pixels[offset + 2] = Math.round(blue);
    pixels[offset + 3] = 255;
    return;
  }
  const kept = ((pixels[offset + 3] ?? 0) / 255) * (1 - opacity);
  const resultAlpha = opacity + kept;
  pixels[offset] = Math.round((red * opacity + (pixels[offset] ?? 0) * kept) / resultAlpha);
  pixels[offset + 1] = Math.round((green * opacity + (pixels[offset + 1] ?? 0) * kept) / resultAlpha);
  pixels[offset + 2] = Math.round((blue * opacity + (pixels[offset + 2] ?? 0) * kept) / resultAlpha);
  pixels[offset + 3] = Math.round(resultAlpha * 255);
}

/**
 * An opaque color from hue (degrees, any value), saturation and lightness (0-1), by the branch-free form of the
 * HSL conversion: each channel is a clamped triangle wave over the hue circle, phase-shifted per channel.
 */
function hsl(hue: number, saturation: number, lightness: number): Color {
  const amplitude = saturation * Math.min(lightness, 1 - lightness);
  const channel = (phase: number): number => {
    const position = (((phase + hue / 30) % 12) + 12) % 12;
    return (lightness - amplitude * Math.max(-1, Math.min(position - 3, 9 - position, 1))) * 255;
  };
  return { r: channel(0), g: channel(8), b: channel(4), a: 255 };
}

/**
 * sfc32 (Chris Doty-Humphrey's "small fast counting" generator) seeded with the first 16 bytes of `seed`:
 * tiny, fast, and good enough that consecutive draws do not visibly correlate. Returns values in [0, 1).
 */
function seededRandom(seed: Uint8Array): () => number {
  const view = new DataView(seed.buffer, seed.byteOffset, seed.byteLength);
  let first = view.getUint32(0);
  let second = view.getUint32(4);
  let third = view.getUint32(8);
  let counter = view.getUint32(12);
  const next = (): number => {
    const result = (((first + second) | 0) + counter) | 0;
    counter = (counter + 1) | 0;
    first = second ^ (second >>> 9);
    second = (third + (third << 3)) | 0;
    third = (((third << 21) | (third >>> 11)) + result) | 0;
    return (result >>> 0) / 0x1_0000_0000;
  };
  // The generator's first outputs still echo the seed; discard a few to let the state mix.
  for (let round = 0; round < 12; round++) next();
  return next;
}
