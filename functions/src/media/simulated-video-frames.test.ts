import assert from "node:assert/strict";
import { encodeMp4 } from "./mp4-video.ts";
import { SIMULATED_VIDEO_DEFAULTS, simulatedVideoFrames } from "./simulated-video-frames.ts";

const { width, height, seconds, framesPerSecond } = SIMULATED_VIDEO_DEFAULTS;

function drawAll(prompt: string): Uint8Array[] {
  const source = simulatedVideoFrames(prompt, width, height, seconds, framesPerSecond);
  return Array.from({ length: source.frameCount }, (_, index) => {
    const rgba = new Uint8Array(width * height * 4);
    source.drawFrame(index, rgba);
    return rgba;
  });
}

function pixel(rgba: Uint8Array, x: number, y: number): number[] {
  const offset = (y * width + x) * 4;
  return [...rgba.subarray(offset, offset + 4)];
}

describe("simulatedVideoFrames", () => {
  it("describes a small clip of round(seconds × fps) frames", () => {
    const source = simulatedVideoFrames("a lighthouse", width, height, seconds, framesPerSecond);
    assert.deepEqual([source.width, source.height, source.frameCount, source.framesPerSecond], [320, 192, 16, 8]);
    assert.equal(simulatedVideoFrames("x", 32, 32, 0.01, 8).frameCount, 1, "at least one frame");
    assert.equal(simulatedVideoFrames("x", 32, 32, 1.5, 10).frameCount, 15);
  });

  it("draws the same frames for the same prompt and different ones for another prompt", () => {
    const first = drawAll("a lighthouse at dusk");
    assert.deepEqual(drawAll("a lighthouse at dusk"), first);
    const other = drawAll("a cat on a skateboard");
    first.forEach((frame, index) => assert.notDeepEqual(other[index], frame, `frame ${index}`));
  });

  it("draws opaque pixels and animates from frame to frame", () => {
    const frames = drawAll("a lighthouse at dusk");
    for (const frame of frames) {
      for (let offset = 3; offset < frame.length; offset += 4) assert.equal(frame[offset], 255);
    }
    for (let index = 1; index < frames.length; index++) {
      assert.notDeepEqual(frames[index], frames[index - 1], `frame ${index} moves`);
    }
  });

  it("fills the progress bar along the bottom edge in proportion to the frame", () => {
    const frames = drawAll("progress");
    const filled = [240, 240, 240, 255];
    const track = [40, 40, 40, 255];
    const bottom = height - 1;
    assert.deepEqual(pixel(frames[0]!, 0, bottom), filled);
    assert.deepEqual(pixel(frames[0]!, width - 1, bottom), track);
    const filledPixels = (frame: Uint8Array): number =>
      Array.from({ length: width }, (_, x) => pixel(frame, x, bottom)).filter(
        (colour) => colour.join() === filled.join(),
      ).length;
    assert.equal(filledPixels(frames[0]!), Math.round(width / frames.length));
    assert.equal(filledPixels(frames[7]!), width / 2);
    assert.equal(filledPixels(frames.at(-1)!), width, "the last frame is complete");
  });

  it("encodes into an MP4 of about frames × width × height × 1.5 bytes", () => {
    const source = simulatedVideoFrames("a lighthouse at dusk", width, height, seconds, framesPerSecond);
    const file = encodeMp4(source);
    assert.equal(file.toString("latin1", 4, 8), "ftyp");
    const rawBytes = source.frameCount * width * height * 1.5;
    assert.ok(file.length > rawBytes && file.length < rawBytes * 1.02, `${file.length} bytes`);
  });

  it("rejects bad sizes, durations, frame indices and buffers", () => {
    assert.throws(() => simulatedVideoFrames("x", 0, 16, 1, 8), RangeError);
    assert.throws(() => simulatedVideoFrames("x", 16, 16.5, 1, 8), RangeError);
    assert.throws(() => simulatedVideoFrames("x", 16, 16, 0, 8), RangeError);
    assert.throws(() => simulatedVideoFrames("x", 16, 16, 1, Number.POSITIVE_INFINITY), RangeError);
    const source = simulatedVideoFrames("x", 16, 16, 1, 4);
    assert.throws(() => {
      source.drawFrame(4, new Uint8Array(16 * 16 * 4));
    }, RangeError);
    assert.throws(() => {
      source.drawFrame(0, new Uint8Array(16));
    }, RangeError);
  });
});
