/**
 * The media port: bytes at a path, and a URL the owner's client can fetch without further auth. Adapters:
 * Cloud Storage (Firebase download-token URLs) and files on disk (HMAC-signed, expiring URLs served by the
 * `api` function). Paths are `users/{uid}/...`, the same in both, so security rules and cleanup line up.
 */

export interface BlobMetadata {
  readonly contentType: string;
  readonly size: number;
}

export interface StoredBlob extends BlobMetadata {
  readonly bytes: Buffer;
}

export interface BlobStore {
  /** Stores the bytes (replacing any blob at `path`) and returns the blob's URL, as {@link url} would. */
  put(path: string, bytes: Uint8Array, contentType: string): Promise<string>;
  get(path: string): Promise<StoredBlob | null>;
  stat(path: string): Promise<BlobMetadata | null>;
  /** Silent when the blob is already gone. */
  delete(path: string): Promise<void>;
  /** Deletes every blob whose path starts with `prefix`; returns how many. */
  deletePrefix(prefix: string): Promise<number>;
  /**
   * Up to `limit` paths of blobs stored before `cutoff` whose paths match `glob`: segments separated by `/`,
   * each one a literal name, `*` (any one segment) or, last, `**` (anything below). In path order, starting after
   * `startAfter` when given, so a long listing can be walked a page at a time.
   */
  listStoredBefore(glob: string, cutoff: Date, limit: number, startAfter?: string): Promise<string[]>;
  /**
   * A URL that returns the bytes with their content type to whoever holds it. Throws {@link BlobMissingError} when
   * there is no blob at `path` (Cloud Storage must look the object up to make one).
   */
  url(path: string): Promise<string>;
  /**
   * The URL to hand out now for a blob whose URL was stored when it was made, without touching storage: the
   * stored one where URLs last (Cloud Storage download tokens), a newly signed one where they expire (files).
   * Reads of history and jobs use it, so a page costs no storage call per image and a lost object cannot fail it.
   */
  refreshUrl(path: string, storedUrl: string): string;
  ping(): Promise<void>;
}

/** No blob at that path. */
export class BlobMissingError extends Error {
  constructor(path: string) {
    super(`No blob at ${path}`);
    this.name = "BlobMissingError";
  }
}

const SAFE_SEGMENT = /^[A-Za-z0-9._@=+-]+$/;

/** Blob paths are relative, made of plain segments: no `..`, no empty parts, nothing a file system would bend. */
export function isBlobPath(path: string): boolean {
  const segments = path.split("/");
  return segments.length >= 2 && segments.every((segment) => SAFE_SEGMENT.test(segment) && !/^\.+$/.test(segment));
}

export function assertBlobPath(path: string): void {
  if (!isBlobPath(path)) throw new Error(`Not a valid blob path: ${JSON.stringify(path)}`);
}

/** The test a {@link BlobStore.listStoredBefore} glob stands for: `*` is one whole segment, a last `**` anything. */
export function globMatcher(glob: string): (path: string) => boolean {
  const pattern = glob
    .split("/")
    .map((segment) =>
      segment === "*" ? "[^/]+" : segment === "**" ? ".+" : segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
    )
    .join("/");
  const expression = new RegExp(`^${pattern}$`);
  return (path) => expression.test(path);
}
