import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { loadSharp } from "./clean-image.ts";

const run = promisify(execFile);

/** What a finished video is: its length and size read from the file itself, and a poster frame. */
export interface VideoFacts {
  readonly durationSeconds: number;
  readonly width: number;
  readonly height: number;
  /** A WebP of an early frame, for the player's poster and for lists. */
  readonly poster: Buffer;
}

/** The file is not a video ffprobe can read (or has no video stream): never stored or served as one. */
export class VideoUnreadableError extends Error {
  constructor(cause: unknown) {
    super("The video could not be read.", { cause });
    this.name = "VideoUnreadableError";
  }
}

/** How far into the clip the poster is taken: past a fade-in, inside even a one-second clip. */
const POSTER_AT_SECONDS = 0.5;
const PROBE_TIMEOUT_MS = 30_000;

/**
 * Probes a video with ffprobe and takes its poster frame with ffmpeg (both binaries from npm packages, loaded on
 * first use, in the workers only). The bytes go through a private temporary folder, removed afterwards.
 */
export async function videoFacts(video: Buffer): Promise<VideoFacts> {
  const [{ default: ffprobe }, { default: ffmpeg }] = await Promise.all([
    import("@ffprobe-installer/ffprobe"),
    import("@ffmpeg-installer/ffmpeg"),
  ]);
  const folder = await mkdtemp(join(tmpdir(), "atelier-video-"));
  try {
    const input = join(folder, "input");
    await writeFile(input, video);
    let stream: { width?: number; height?: number; duration?: string } | undefined;
    let duration: number;
    try {
      const { stdout } = await run(
        ffprobe.path,
        ["-v", "error", "-print_format", "json", "-show_streams", "-show_format", input],
        { timeout: PROBE_TIMEOUT_MS, maxBuffer: 4 * 1024 * 1024 },
      );
      const probed = JSON.parse(stdout) as {
        streams?: { codec_type?: string; width?: number; height?: number; duration?: string }[];
        format?: { duration?: string };
      };
      stream = probed.streams?.find((candidate) => candidate.codec_type === "video");
      duration = Number(probed.format?.duration ?? stream?.duration);
    } catch (error) {
      throw new VideoUnreadableError(error);
    }
    if (stream?.width === undefined || stream.height === undefined || !(duration > 0)) {
      throw new VideoUnreadableError(new Error("no video stream with a size and a duration"));
    }
    const frame = join(folder, "poster.png");
    const at = Math.min(POSTER_AT_SECONDS, duration / 2);
    try {
      await run(ffmpeg.path, ["-v", "error", "-ss", String(at), "-i", input, "-frames:v", "1", "-y", frame], {
        timeout: PROBE_TIMEOUT_MS,
      });
    } catch (error) {
      throw new VideoUnreadableError(error);
    }
    const sharp = await loadSharp();
    const poster = await sharp(await readFile(frame))
      .webp({ quality: 80 })
      .toBuffer();
    return { durationSeconds: Math.round(duration * 100) / 100, width: stream.width, height: stream.height, poster };
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
