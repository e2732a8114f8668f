import assert from "node:assert/strict";
import { glyphFor, hasGlyph } from "./bitmap-font.ts";
import {
  applyMaskedEdit,
  blendPixel,
  createCanvas,
  drawText,
  fillCircle,
  fillLinearGradient,
  fillRect,
  measureText,
  renderPromptImage,
  wrapText,
} from "./canvas.ts";
import type { Color } from "./canvas.ts";
import type { RgbaImage } from "./rgba-image.ts";

const RED: Color = { r: 255, g: 0, b: 0, a: 255 };
const BLUE: Color = { r: 0, g: 0, b: 255, a: 255 };
const WHITE: Color = { r: 255, g: 255, b: 255, a: 255 };
const BLACK: Color = { r: 0, g: 0, b: 0, a: 255 };

function pixelAt(image: RgbaImage, x: number, y: number): number[] {
  const offset = (y * image.width + x) * 4;
  return [...image.pixels.subarray(offset, offset + 4)];
}

function countPixels(image: RgbaImage, matches: (pixel: number[]) => boolean): number {
  let count = 0;
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) if (matches(pixelAt(image, x, y))) count++;
  }
  return count;
}

const isColor = (color: Color) => (pixel: number[]) =>
  pixel[0] === color.r && pixel[1] === color.g && pixel[2] === color.b && pixel[3] === color.a;

/** The lit pixels of an image as text rows ("#" for pixels equal to `color`, "." otherwise), for glyph checks. */
function picture(image: RgbaImage, color: Color): string[] {
  return Array.from({ length: image.height }, (_, y) =>
    Array.from({ length: image.width }, (_, x) => (isColor(color)(pixelAt(image, x, y)) ? "#" : ".")).join(""),
  );
}

function differingPixels(first: RgbaImage, second: RgbaImage): number {
  let count = 0;
  for (let offset = 0; offset < first.pixels.length; offset += 4) {
    if (first.pixels.subarray(offset, offset + 4).some((byte, channel) => byte !== second.pixels[offset + channel])) {
      count++;
    }
  }
  return count;
}

describe("canvas", () => {
  describe("createCanvas", () => {
    it("fills a new image with the given color", () => {
      const canvas = createCanvas(3, 2, { r: 1, g: 2, b: 3, a: 4 });
      assert.equal(canvas.pixels.length, 24);
      assert.equal(countPixels(canvas, isColor({ r: 1, g: 2, b: 3, a: 4 })), 6);
    });

    it("is transparent black when no color is given", () => {
      assert.ok(createCanvas(4, 4).pixels.every((byte) => byte === 0));
    });

    it("refuses sizes that are not positive integers, or absurdly large", () => {
      assert.throws(() => createCanvas(0, 5), /positive integers/);
      assert.throws(() => createCanvas(2.5, 5), /positive integers/);
      assert.throws(() => createCanvas(100_000, 100_000), /larger than supported/);
    });
  });

  describe("fillRect", () => {
    it("fills exactly the rectangle's pixels", () => {
      const canvas = createCanvas(10, 10, BLACK);
      fillRect(canvas, 2, 3, 4, 5, RED);
      assert.equal(countPixels(canvas, isColor(RED)), 20);
      assert.deepEqual(pixelAt(canvas, 2, 3), [255, 0, 0, 255]);
      assert.deepEqual(pixelAt(canvas, 5, 7), [255, 0, 0, 255]);
      assert.deepEqual(pixelAt(canvas, 6, 7), [0, 0, 0, 255]);
      assert.deepEqual(pixelAt(canvas, 5, 8), [0, 0, 0, 255]);
    });

    it("clips rectangles that hang over the edges (or lie wholly outside)", () => {
      const canvas = createCanvas(4, 4, BLACK);
      fillRect(canvas, -2, -2, 4, 100, RED);
      fillRect(canvas, 50, 50, 10, 10, RED);
      assert.equal(countPixels(canvas, isColor(RED)), 8);
    });

    it("clamps out-of-range channels instead of letting them wrap", () => {
      const canvas = createCanvas(1, 1);
      fillRect(canvas, 0, 0, 1, 1, { r: 300, g: -20, b: 127.6, a: 999 });
      assert.deepEqual(pixelAt(canvas, 0, 0), [255, 0, 128, 255]);
    });
  });

  describe("blending", () => {
    it("mixes a translucent color over an opaque one in proportion to its alpha", () => {
      const canvas = createCanvas(1, 1, BLUE);
      blendPixel(canvas, 0, 0, { ...RED, a: 128 });
      assert.deepEqual(pixelAt(canvas, 0, 0), [128, 0, 127, 255]);
    });

    it("keeps a translucent color as it is over transparency", () => {
      const canvas = createCanvas(1, 1);
      blendPixel(canvas, 0, 0, { r: 10, g: 20, b: 30, a: 60 });
      assert.deepEqual(pixelAt(canvas, 0, 0), [10, 20, 30, 60]);
    });

    it("combines two translucent layers into a more opaque one", () => {
      const canvas = createCanvas(1, 1, { ...RED, a: 128 });
      blendPixel(canvas, 0, 0, { ...BLUE, a: 128 });
      const [red, green, blue, alpha] = pixelAt(canvas, 0, 0) as [number, number, number, number];
      assert.equal(alpha, 192);
      assert.equal(green, 0);
      assert.ok(blue > red, "the top layer dominates");
    });

    it("leaves the pixel alone for a fully transparent color, and ignores pixels outside the image", () => {
      const canvas = createCanvas(2, 2, BLUE);
      blendPixel(canvas, 0, 0, { ...RED, a: 0 });
      blendPixel(canvas, -1, 0, RED);
      blendPixel(canvas, 2, 1, RED);
      assert.equal(countPixels(canvas, isColor(BLUE)), 4);
    });
  });

  describe("fillCircle", () => {
    it("covers about pi r squared pixels, solid inside, untouched outside, with soft edges", () => {
      const canvas = createCanvas(41, 41, BLACK);
      fillCircle(canvas, 20.5, 20.5, 15, WHITE);
      const solid = countPixels(canvas, isColor(WHITE));
      const touched = countPixels(canvas, (pixel) => pixel[0] !== 0);
      assert.ok(Math.abs(touched - Math.PI * 15 * 15) < 2 * Math.PI * 15, `${touched} pixels`);
      assert.ok(solid < touched, "edge pixels are partly covered");
      assert.deepEqual(pixelAt(canvas, 20, 20), [255, 255, 255, 255]);
      assert.deepEqual(pixelAt(canvas, 20, 6), [255, 255, 255, 255]);
      assert.deepEqual(pixelAt(canvas, 20, 3), [0, 0, 0, 255]);
      assert.deepEqual(pixelAt(canvas, 2, 2), [0, 0, 0, 255]);
    });

    it("is symmetric about its centre", () => {
      const canvas = createCanvas(21, 21, BLACK);
      fillCircle(canvas, 10.5, 10.5, 7.3, RED);
      for (let y = 0; y < 21; y++) {
        for (let x = 0; x < 21; x++) {
          assert.deepEqual(pixelAt(canvas, x, y), pixelAt(canvas, 20 - x, y));
          assert.deepEqual(pixelAt(canvas, x, y), pixelAt(canvas, y, x));
        }
      }
    });

    it("clips at the edges and draws nothing for a radius of zero", () => {
      const canvas = createCanvas(8, 8, BLACK);
      fillCircle(canvas, 0, 0, 4, RED);
      fillCircle(canvas, 6, 6, 0, RED);
      assert.deepEqual(pixelAt(canvas, 0, 0), [255, 0, 0, 255]);
      assert.deepEqual(pixelAt(canvas, 6, 6), [0, 0, 0, 255]);
    });
  });

  describe("fillLinearGradient", () => {
    it("runs vertically from the first color on the top row to the second on the bottom row", () => {
      const canvas = createCanvas(5, 11);
      fillLinearGradient(canvas, BLACK, { r: 200, g: 100, b: 0, a: 255 }, "vertical");
      assert.deepEqual(pixelAt(canvas, 3, 0), [0, 0, 0, 255]);
      assert.deepEqual(pixelAt(canvas, 3, 5), [100, 50, 0, 255]);
      assert.deepEqual(pixelAt(canvas, 3, 10), [200, 100, 0, 255]);
      for (let y = 0; y < 11; y++) assert.deepEqual(pixelAt(canvas, 0, y), pixelAt(canvas, 4, y), "rows are uniform");
    });

    it("runs diagonally from the top-left corner to the bottom-right corner", () => {
      const canvas = createCanvas(6, 4);
      fillLinearGradient(canvas, RED, BLUE, "diagonal");
      assert.deepEqual(pixelAt(canvas, 0, 0), [255, 0, 0, 255]);
      assert.deepEqual(pixelAt(canvas, 5, 3), [0, 0, 255, 255]);
      assert.deepEqual(pixelAt(canvas, 3, 0), pixelAt(canvas, 0, 3), "equal along each anti-diagonal");
      assert.ok(pixelAt(canvas, 3, 1)[0]! < pixelAt(canvas, 2, 1)[0]!, "red fades towards the bottom right");
    });

    it("runs horizontally, and copes with a one-pixel image", () => {
      const canvas = createCanvas(3, 2);
      fillLinearGradient(canvas, RED, BLUE, "horizontal");
      assert.deepEqual(pixelAt(canvas, 0, 1), [255, 0, 0, 255]);
      assert.deepEqual(pixelAt(canvas, 2, 1), [0, 0, 255, 255]);
      const dot = createCanvas(1, 1);
      fillLinearGradient(dot, RED, BLUE, "diagonal");
      assert.deepEqual(pixelAt(dot, 0, 0), [255, 0, 0, 255]);
    });

    it("blends translucent gradient colors over what is there", () => {
      const canvas = createCanvas(1, 2, BLUE);
      fillLinearGradient(canvas, { ...RED, a: 0 }, { ...RED, a: 128 });
      assert.deepEqual(pixelAt(canvas, 0, 0), [0, 0, 255, 255]);
      assert.deepEqual(pixelAt(canvas, 0, 1), [128, 0, 127, 255]);
    });
  });

  describe("text", () => {
    it("measures 6 pixels per character (less the last gap) by 7, times the scale, with 8 per extra line", () => {
      assert.deepEqual(measureText("AB", 1), { width: 11, height: 7 });
      assert.deepEqual(measureText("AB", 3), { width: 33, height: 21 });
      assert.deepEqual(measureText("ABC\nD", 2), { width: 34, height: 30 });
      assert.deepEqual(measureText("", 2), { width: 0, height: 14 });
    });

    it("draws each glyph from the 5x7 font", () => {
      const canvas = createCanvas(7, 9, BLACK);
      drawText(canvas, "A", 1, 1, 1, WHITE);
      assert.deepEqual(picture(canvas, WHITE), [
        ".......",
        "..###..",
        ".#...#.",
        ".#...#.",
        ".#...#.",
        ".#####.",
        ".#...#.",
        ".#...#.",
        ".......",
      ]);
    });

    it("scales each font pixel to a square and covers exactly the measured box", () => {
      const canvas = createCanvas(40, 20, BLACK);
      drawText(canvas, "H-E", 2, 3, 2, WHITE);
      const lit = picture(canvas, WHITE);
      const rows = lit.map((row, y) => (row.includes("#") ? y : -1)).filter((y) => y >= 0);
      const columns = Array.from({ length: 40 }, (_, x) => x).filter((x) => lit.some((row) => row[x] === "#"));
      const size = measureText("H-E", 2);
      assert.deepEqual([rows[0], rows.at(-1)! + 1], [3, 3 + size.height]);
      assert.deepEqual([columns[0], columns.at(-1)! + 1], [2, 2 + size.width]);
      // Lit font pixels: "H" 17 (two sides of 7, a bar of 3), "-" 5, "E" 18; each becomes a 2x2 square.
      assert.equal(countPixels(canvas, isColor(WHITE)), (17 + 5 + 18) * 4);
    });

    it("draws lower case as upper case", () => {
      const lower = createCanvas(30, 9, BLACK);
      const upper = createCanvas(30, 9, BLACK);
      drawText(lower, "abc", 1, 1, 1, WHITE);
      drawText(upper, "ABC", 1, 1, 1, WHITE);
      assert.deepEqual(lower.pixels, upper.pixels);
    });

    it("has a glyph for letters, digits, space and common punctuation", () => {
      const required = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .,:;!?'\"-_()/&+";
      for (const character of required) assert.ok(hasGlyph(character), JSON.stringify(character));
      const shapes = new Set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".split("").map((each) => glyphFor(each).join()));
      assert.equal(shapes.size, 36, "every letter and digit looks different");
    });

    it("draws accented letters as their base letter", () => {
      assert.deepEqual(glyphFor("é"), glyphFor("E"));
      assert.deepEqual(glyphFor("Ç"), glyphFor("C"));
      assert.deepEqual(glyphFor("n\u0303"), glyphFor("N"), "n with a combining tilde");
    });

    it("draws a small box for a character the font lacks, one per grapheme", () => {
      const canvas = createCanvas(7, 9, BLACK);
      drawText(canvas, "€", 1, 1, 1, WHITE);
      assert.deepEqual(picture(canvas, WHITE).slice(1, 8), [
        ".......",
        "..###..",
        "..#.#..",
        "..#.#..",
        "..#.#..",
        "..###..",
        ".......",
      ]);
      assert.equal(hasGlyph("€"), false);
      assert.equal(measureText("👩‍👩‍👧", 1).width, 5, "a family emoji is one character");
    });

    it("starts a new line at each newline, and clips text running off the image", () => {
      const canvas = createCanvas(12, 16, BLACK);
      drawText(canvas, "I\nIIIII", 0, 0, 1, WHITE);
      assert.deepEqual(picture(canvas, WHITE)[8], ".###...###..");
      assert.deepEqual(picture(canvas, WHITE)[0], ".###........");
    });
  });

  describe("wrapText", () => {
    it("keeps text that fits on one line as it is (whitespace collapsed)", () => {
      assert.deepEqual(wrapText("  a  quiet   lake ", 20, 3), ["a quiet lake"]);
    });

    it("breaks at spaces, filling each line as far as it goes", () => {
      assert.deepEqual(wrapText("a red fox jumps over the lazy dog", 10, 5), [
        "a red fox",
        "jumps over",
        "the lazy",
        "dog",
      ]);
    });

    it("splits a word longer than a line", () => {
      assert.deepEqual(wrapText("supercalifragilistic ok", 8, 5), ["supercal", "ifragili", "stic ok"]);
    });

    it("ends with an ellipsis when the text needs more lines than allowed", () => {
      assert.deepEqual(wrapText("one two three four five six", 9, 2), ["one two", "three..."]);
      assert.deepEqual(wrapText("aaaaaaaaaa bbbbbbbbbb", 10, 1), ["aaaaaaa..."]);
    });

    it("gives nothing for empty text or no room", () => {
      assert.deepEqual(wrapText("   ", 10, 2), []);
      assert.deepEqual(wrapText("words", 0, 2), []);
      assert.deepEqual(wrapText("words", 10, 0), []);
    });
  });

  describe("renderPromptImage", () => {
    const width = 256;
    const height = 192;

    it("is deterministic: the same prompt gives identical bytes", () => {
      const first = renderPromptImage("a lighthouse at dusk, oil painting", width, height);
      const second = renderPromptImage("a lighthouse at dusk, oil painting", width, height);
      assert.deepEqual(first.pixels, second.pixels);
    });

    it("gives visibly different pictures for different prompts", () => {
      const prompts = ["a lighthouse at dusk", "a lighthouse at dawn", "three cats on a sofa", "x"];
      const images = prompts.map((prompt) => renderPromptImage(prompt, width, height));
      for (let first = 0; first < images.length; first++) {
        for (let second = first + 1; second < images.length; second++) {
          const fraction = differingPixels(images[first]!, images[second]!) / (width * height);
          assert.ok(fraction > 0.5, `${prompts[first]} vs ${prompts[second]}: only ${fraction} differ`);
        }
      }
    });

    it("is opaque everywhere, at the requested size", () => {
      const image = renderPromptImage("opaque", 97, 61);
      assert.equal(image.width, 97);
      assert.equal(image.height, 61);
      assert.equal(image.pixels.length, 97 * 61 * 4);
      assert.equal(
        countPixels(image, (pixel) => pixel[3] !== 255),
        0,
      );
    });

    it("writes the prompt in white and labels the picture SIMULATED in yellow", () => {
      const isWhite = isColor(WHITE);
      const isYellow = isColor({ r: 255, g: 214, b: 10, a: 255 });
      const withText = renderPromptImage("hello world", width, height);
      assert.ok(countPixels(withText, isWhite) > 50);
      assert.ok(countPixels(withText, isYellow) > 50);
      const emptyPrompt = renderPromptImage("", width, height);
      assert.equal(countPixels(emptyPrompt, isWhite), 0, "no band for an empty prompt");
      assert.ok(countPixels(emptyPrompt, isYellow) > 50);
    });

    it("survives tiny sizes and very long prompts", () => {
      assert.equal(renderPromptImage("dot", 1, 1).pixels.length, 4);
      assert.equal(renderPromptImage("sliver", 3, 200).pixels.length, 3 * 200 * 4);
      const long = renderPromptImage("word ".repeat(10_000), 320, 240);
      assert.equal(long.pixels.length, 320 * 240 * 4);
    });

    it("rejects sizes that are not positive integers", () => {
      assert.throws(() => renderPromptImage("x", 0, 10), /positive integers/);
      assert.throws(() => renderPromptImage("x", 10, Number.NaN), /positive integers/);
    });
  });

  describe("applyMaskedEdit", () => {
    const width = 64;
    const height = 48;

    /** White (on) over the left half, with a stripe of masked-off variants along the top of the right half. */
    function halfMask(): RgbaImage {
      const mask = createCanvas(width, height, BLACK);
      fillRect(mask, 0, 0, width / 2, height, WHITE);
      fillRect(mask, 40, 0, 4, 4, { r: 255, g: 255, b: 255, a: 0 }); // White but fully transparent: off.
      fillRect(mask, 44, 0, 4, 4, { r: 127, g: 127, b: 127, a: 255 }); // Luminance 127: off.
      return mask;
    }

    it("keeps every pixel outside the mask byte for byte, and replaces every pixel inside", () => {
      // A transparent original: the rendered edit is opaque, so every masked pixel must change.
      const original = createCanvas(width, height, { r: 12, g: 34, b: 56, a: 0 });
      for (let x = 0; x < width; x++) original.pixels[x * 4 + 3] = x; // Some variety to preserve.
      const edited = applyMaskedEdit(original, halfMask(), "a red balloon");
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          if (x < width / 2) {
            assert.notDeepEqual(pixelAt(edited, x, y), pixelAt(original, x, y), `(${x}, ${y}) is masked`);
          } else {
            assert.deepEqual(pixelAt(edited, x, y), pixelAt(original, x, y), `(${x}, ${y}) is not masked`);
          }
        }
      }
    });

    it("shows the prompt's rendered picture inside the mask", () => {
      const original = createCanvas(width, height, BLACK);
      const edited = applyMaskedEdit(original, halfMask(), "a red balloon");
      const rendered = renderPromptImage("a red balloon", width, height);
      assert.deepEqual(pixelAt(edited, 5, 5), pixelAt(rendered, 5, 5));
      assert.deepEqual(pixelAt(edited, 31, 47), pixelAt(rendered, 31, 47));
    });

    it("does not modify its inputs", () => {
      const original = createCanvas(width, height, BLACK);
      const mask = halfMask();
      const before = Uint8Array.from(original.pixels);
      applyMaskedEdit(original, mask, "anything");
      assert.deepEqual(original.pixels, before);
    });

    it("refuses a mask of a different size", () => {
      assert.throws(
        () => applyMaskedEdit(createCanvas(10, 10), createCanvas(10, 11), "x"),
        /mask is 10x11 but the image is 10x10/,
      );
    });
  });
});
