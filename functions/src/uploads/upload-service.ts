import type { BlobStore } from "../blobs/blob-store.ts";
import type { DocumentDatabase } from "../database/document-database.ts";
import { AppError, invalidArgument, notFound, resourceExhausted } from "../errors/app-error.ts";
import { resolveImageInput } from "../jobs/image-input.ts";
import { thumbnail } from "../media/thumbnail.ts";
import type { ImageInput } from "../contract/request-bodies.ts";
import { newId } from "../store/ids.ts";
import { CLIENT_ID_PATTERN } from "../contract/identifiers.ts";
import { mediaPaths } from "../store/media-paths.ts";
import { paths } from "../store/paths.ts";
import type { Upload } from "../contract/resources.ts";

/** Daily limits on a user's uploads, and the checks applied to each image. */
interface UploadLimits {
  readonly perDay: number;
  readonly bytesPerDay: number;
  readonly maxBytes: number;
  readonly maxDimension: number;
}

/** Where an upload's thumbnail is stored: beside it, so every deletion by prefix takes both. */
function thumbnailPath(uid: string, id: string): string {
  return `${mediaPaths.uploads(uid)}${id}.thumbnail.webp`;
}

interface DayCounter {
  readonly day: string;
  /** The day's first millisecond: what the Storage rules compare `request.time` with. */
  readonly day_start: number;
  readonly count: number;
  readonly bytes: number;
}

/** The extensions an upload can have: `POST /uploads` writes the first three, SDK uploads any (storage.rules). */
const EXTENSIONS = ["png", "jpg", "webp", "jpeg"] as const;
const DAY_MS = 86_400_000;

/** The UTC day of `now` (`2026-12-02`), its first millisecond, and the seconds left in it. */
function dayOf(now: number): { day: string; start: number; secondsLeft: number } {
  const start = Math.floor(now / DAY_MS) * DAY_MS;
  return { day: new Date(start).toISOString().slice(0, 10), start, secondsLeft: (start + DAY_MS - now) / 1000 };
}

/**
 * A user's uploads (`POST /uploads`, `DELETE /uploads/{id}`), counted per UTC day in number and bytes
 * (`users/{uid}/counters/uploads`): a request over either limit is refused with `429` before anything is stored. The
 * count is taken in a transaction before the bytes are written and given back if writing them fails, so
 * concurrent uploads cannot overshoot. Uploads made straight to Cloud Storage with the Firebase SDK are counted on
 * the same counter after the fact ({@link UploadService.countDirect}) and removed when over the limit.
 */
export class UploadService {
  readonly #database: DocumentDatabase;
  readonly #blobs: BlobStore;
  readonly #limits: UploadLimits;
  readonly #thumbnailMaxPx: number;
  readonly #now: () => number;

  constructor(options: {
    database: DocumentDatabase;
    blobs: BlobStore;
    limits: UploadLimits;
    /** The longest side of each upload's WebP thumbnail. */
    thumbnailMaxPx: number;
    now: () => number;
  }) {
    this.#database = options.database;
    this.#blobs = options.blobs;
    this.#limits = options.limits;
    this.#thumbnailMaxPx = options.thumbnailMaxPx;
    this.#now = options.now;
  }

  async store(uid: string, input: ImageInput): Promise<Upload> {
    if ("path" in input) throw invalidArgument("Send the image bytes.", { data: "Base64-encoded image bytes" });
    const image = await resolveImageInput(uid, input, "image", this.#blobs, {
      maxBytes: this.#limits.maxBytes,
      maxDimension: this.#limits.maxDimension,
    });
    const size = image.data.length;
    await this.#count(uid, size, "refuse");
    const id = newId("upload");
    const extension = image.mimeType === "image/jpeg" ? "jpg" : image.mimeType.slice("image/".length);
    const path = `${mediaPaths.uploads(uid)}${id}.${extension}`;
    const small = await thumbnail(image.data, this.#thumbnailMaxPx);
    let url: string;
    let thumbnailUrl: string;
    try {
      [url, thumbnailUrl] = await Promise.all([
        this.#blobs.put(path, image.data, image.mimeType),
        this.#blobs.put(thumbnailPath(uid, id), small.data, "image/webp"),
      ]);
    } catch (error) {
      await Promise.allSettled([this.#blobs.delete(path), this.#blobs.delete(thumbnailPath(uid, id))]);
      await this.#count(uid, -size, "report");
      throw error;
    }
    return {
      ok: true,
      id,
      path,
      url,
      thumbnail_url: thumbnailUrl,
      mime_type: image.mimeType,
      size,
      width: image.width,
      height: image.height,
    };
  }

  /**
   * Deletes an upload of the caller's by id, with its thumbnail; one that does not exist (or is someone else's) is
   * not found.
   */
  async remove(uid: string, id: string): Promise<void> {
    if (!CLIENT_ID_PATTERN.test(id)) throw invalidArgument("Invalid upload id.", { id: "Not an upload id" });
    for (const extension of EXTENSIONS) {
      const path = `${mediaPaths.uploads(uid)}${id}.${extension}`;
      if ((await this.#blobs.stat(path)) !== null) {
        // The thumbnail first: an interrupted deletion then leaves the upload, which can be deleted again.
        await this.#blobs.delete(thumbnailPath(uid, id));
        await this.#blobs.delete(path);
        return;
      }
    }
    throw notFound("Upload");
  }

  /**
   * Counts an upload made straight to Cloud Storage (the Storage trigger calls it): within the day's limits it
   * stays; over them it is deleted. Returns whether it was kept.
   */
  async countDirect(uid: string, path: string, size: number): Promise<boolean> {
    const kept = await this.#count(uid, size, "report");
    if (!kept) await this.#blobs.delete(path);
    return kept;
  }

  /**
   * Adds an upload of `bytes` to today's counter (negative `bytes` gives one back). Over a limit the counter stays
   * as it is, and the upload is refused with `429` (`refuse`) or the answer is false (`report`).
   */
  async #count(uid: string, bytes: number, overLimit: "refuse" | "report"): Promise<boolean> {
    const { day, start, secondsLeft } = dayOf(this.#now());
    const path = paths.counter(uid, "uploads");
    return this.#database.transaction(async (transaction) => {
      if (bytes > 0 && (await transaction.get(paths.deletedAccount(uid))) !== null) {
        throw new AppError("unauthenticated", "This account was deleted.");
      }
      const stored = (await transaction.get<DayCounter>(path))?.data;
      const current = stored?.day === day ? stored : { day, day_start: start, count: 0, bytes: 0 };
      const uploads = current.count + (bytes < 0 ? -1 : 1);
      const total = current.bytes + bytes;
      const over = bytes > 0 && (uploads > this.#limits.perDay || total > this.#limits.bytesPerDay);
      if (over && overLimit === "refuse") {
        throw resourceExhausted(
          `You can upload at most ${this.#limits.perDay} images (${this.#limits.bytesPerDay} bytes) a day.`,
          secondsLeft,
          { limit: this.#limits.perDay, limit_bytes: this.#limits.bytesPerDay, scope: "uploads" },
        );
      }
      if (over) return false;
      transaction.set(path, { day, day_start: start, count: Math.max(0, uploads), bytes: Math.max(0, total) });
      return true;
    });
  }
}
