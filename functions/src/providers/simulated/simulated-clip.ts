import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { promptPicture } from "./prompt-picture.ts";

/** Frames per second of a simulated clip: smooth enough to see it move, cheap enough to encode in a blink. */
const FRAMES_PER_SECOND = 12;

/**
 * A real H.264 MP4 of the prompt: its picture (drawn by sharp from an SVG) slowly zoomed into by ffmpeg for
 * `seconds`, `width`×`height`, `+faststart` so a player can start before the whole file has arrived. The same
 * prompt gives the same clip.
 */
export async function simulatedClip(prompt: string, width: number, height: number, seconds: number): Promise<Buffer> {
  const [{ default: sharp }, { default: ffmpeg }] = await Promise.all([
    import("sharp"),
    import("@ffmpeg-installer/ffmpeg"),
  ]);
  const folder = await mkdtemp(join(tmpdir(), "atelier-simulated-clip-"));
  try {
    const still = join(folder, "still.png");
    const clip = join(folder, "clip.mp4");
    await writeFile(
      still,
      await sharp(Buffer.from(promptPicture(prompt, width, height)))
        .png()
        .toBuffer(),
    );
    const frames = Math.max(1, Math.round(seconds * FRAMES_PER_SECOND));
    const zoom =
      `zoompan=z='min(zoom+0.002,1.25)':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)'` +
      `:d=${String(frames)}:s=${String(width)}x${String(height)}:fps=${String(FRAMES_PER_SECOND)}`;
    await promisify(execFile)(
      ffmpeg.path,
      [
        ...["-v", "error", "-i", still, "-vf", zoom, "-frames:v", String(frames)],
        ...["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-movflags", "+faststart", "-y", clip],
      ],
      { timeout: 60_000 },
    );
    return await readFile(clip);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
