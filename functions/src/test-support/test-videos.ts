import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import ffmpeg from "@ffmpeg-installer/ffmpeg";

/**
 * A real, playable H.264 MP4 for tests, made by the same ffmpeg the product uses: ffmpeg's test pattern,
 * `width`×`height`, `seconds` long. Made once per size and length.
 */
const made = new Map<string, Promise<Buffer>>();

export function sampleMp4(width = 64, height = 48, seconds = 1): Promise<Buffer> {
  const key = `${String(width)}x${String(height)}x${String(seconds)}`;
  let video = made.get(key);
  if (video === undefined) {
    video = encode(width, height, seconds);
    made.set(key, video);
  }
  return video;
}

async function encode(width: number, height: number, seconds: number): Promise<Buffer> {
  const folder = await mkdtemp(join(tmpdir(), "atelier-test-video-"));
  try {
    const output = join(folder, "sample.mp4");
    await promisify(execFile)(ffmpeg.path, [
      ...["-v", "error", "-f", "lavfi", "-i", `testsrc=size=${String(width)}x${String(height)}:rate=8`],
      ...["-t", String(seconds), "-c:v", "libx264", "-pix_fmt", "yuv420p", "-y", output],
    ]);
    return await readFile(output);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
