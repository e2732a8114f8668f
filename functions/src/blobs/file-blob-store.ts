import { createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { access, mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { assertBlobPath, BlobMissingError, type BlobMetadata, type BlobStore, type StoredBlob } from "./blob-store.ts";

/**
 * Embedded-mode media: files under `<root>/objects`, their content types under `<root>/metadata`, served by
 * the `api` function at `/media/<path>?expires=&signature=`. The signature is an HMAC over the path and expiry
 * with a key kept in `<root>/signing-key` (made on first use, shared by every process). Expiry is rounded up
 * to the hour so the same blob keeps the same URL for a while and browsers can cache it.
 */

interface FileBlobStoreOptions {
  /** Folder that holds everything (created if missing). */
  readonly root: string;
  /** Base URL of the `api` function, e.g. `http://127.0.0.1:5001/demo-atelier/us-central1/api`. */
  readonly baseUrl: string;
  readonly urlTtlSeconds: number;
  readonly now?: () => number;
}

const HOUR_SECONDS = 3600;

export class FileBlobStore implements BlobStore {
  readonly #root: string;
  readonly #baseUrl: string;
  readonly #urlTtlSeconds: number;
  readonly #now: () => number;
  readonly #key: Buffer;

  private constructor(options: FileBlobStoreOptions, key: Buffer) {
    this.#root = options.root;
    this.#baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.#urlTtlSeconds = options.urlTtlSeconds;
    this.#now = options.now ?? Date.now;
    this.#key = key;
  }

  static async open(options: FileBlobStoreOptions): Promise<FileBlobStore> {
    await mkdir(join(options.root, "objects"), { recursive: true });
    await mkdir(join(options.root, "metadata"), { recursive: true });
    return new FileBlobStore(options, await readOrCreateKey(join(options.root, "signing-key")));
  }

  async put(path: string, bytes: Uint8Array, contentType: string): Promise<string> {
    assertBlobPath(path);
    await writeAtomically(this.#objectFile(path), bytes);
    await writeAtomically(
      this.#metadataFile(path),
      JSON.stringify({ contentType, size: bytes.byteLength, storedAt: this.#now() } satisfies FileMetadata),
    );
    return this.#signedUrl(path);
  }

  async get(path: string): Promise<StoredBlob | null> {
    const metadata = await this.stat(path);
    if (metadata === null) return null;
    try {
      return { ...metadata, bytes: await readFile(this.#objectFile(path)) };
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async stat(path: string): Promise<BlobMetadata | null> {
    assertBlobPath(path);
    try {
      const metadata = JSON.parse(await readFile(this.#metadataFile(path), "utf8")) as FileMetadata;
      await access(this.#objectFile(path));
      return { contentType: metadata.contentType, size: metadata.size };
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async delete(path: string): Promise<void> {
    assertBlobPath(path);
    await rm(this.#objectFile(path), { force: true });
    await rm(this.#metadataFile(path), { force: true });
  }

  async deletePrefix(prefix: string): Promise<number> {
    const objects = join(this.#root, "objects");
    const start = join(objects, prefix.includes("/") ? prefix.slice(0, prefix.lastIndexOf("/")) : "");
    let deleted = 0;
    for (const file of await listFiles(start)) {
      const path = relative(objects, file).split(sep).join("/");
      if (!path.startsWith(prefix)) continue;
      await this.delete(path);
      deleted += 1;
    }
    return deleted;
  }

  async listStoredBefore(glob: string, cutoff: Date, limit: number, startAfter?: string): Promise<string[]> {
    // Folders list in no set order: the matching names are sorted as strings, as Cloud Storage lists them.
    const matching: string[] = [];
    for await (const path of this.#matching(glob.split("/"), [])) {
      if (startAfter === undefined || path > startAfter) matching.push(path);
    }
    matching.sort();
    const found: string[] = [];
    for (const path of matching) {
      if ((await this.#storedAt(path)) < cutoff.getTime()) found.push(path);
      if (found.length >= limit) break;
    }
    return found;
  }

  /** Paths of the objects that match the glob's remaining segments below `folder`, reading only what can match. */
  async *#matching(pattern: readonly string[], folder: readonly string[]): AsyncGenerator<string> {
    const [segment, ...rest] = pattern;
    const directory = join(this.#root, "objects", ...folder);
    if (segment === "**") {
      for (const file of await listFiles(directory))
        yield relative(join(this.#root, "objects"), file).split(sep).join("/");
      return;
    }
    if (segment === undefined) {
      if (folder.length > 0 && (await isFile(directory))) yield folder.join("/");
      return;
    }
    const names = segment === "*" ? await listNames(directory) : [segment];
    for (const name of names) yield* this.#matching(rest, [...folder, name]);
  }

  async #storedAt(path: string): Promise<number> {
    try {
      const metadata = JSON.parse(await readFile(this.#metadataFile(path), "utf8")) as FileMetadata;
      if (metadata.storedAt !== undefined) return metadata.storedAt;
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
    // Stored before `storedAt` was recorded, or a `put` that died between its two writes: the file's own time.
    try {
      return (await stat(this.#objectFile(path))).mtimeMs;
    } catch (error) {
      if (isMissing(error)) return Number.POSITIVE_INFINITY;
      throw error;
    }
  }

  /** Like Cloud Storage, a URL only for a blob that exists. */
  async url(path: string): Promise<string> {
    assertBlobPath(path);
    if ((await this.stat(path)) === null) throw new BlobMissingError(path);
    return this.#signedUrl(path);
  }

  /** Signed again on every read (signed URLs expire); no disk access. */
  refreshUrl(path: string): string {
    return this.#signedUrl(path);
  }

  #signedUrl(path: string): string {
    assertBlobPath(path);
    const nowSeconds = Math.floor(this.#now() / 1000);
    const expires = Math.ceil((nowSeconds + this.#urlTtlSeconds) / HOUR_SECONDS) * HOUR_SECONDS;
    const encodedPath = path.split("/").map(encodeURIComponent).join("/");
    return `${this.#baseUrl}/media/${encodedPath}?expires=${expires}&signature=${this.#sign(path, expires)}`;
  }

  /** True when `signature` was made by {@link url} for this path and has not expired. */
  verify(path: string, expires: number, signature: string): boolean {
    if (!Number.isSafeInteger(expires) || expires * 1000 < this.#now()) return false;
    const expected = Buffer.from(this.#sign(path, expires));
    const given = Buffer.from(signature);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  async ping(): Promise<void> {
    await access(join(this.#root, "objects"));
  }

  #sign(path: string, expires: number): string {
    return createHmac("sha256", this.#key).update(`${path}\n${expires}`).digest("base64url");
  }

  #objectFile(path: string): string {
    return join(this.#root, "objects", ...path.split("/"));
  }

  #metadataFile(path: string): string {
    return `${join(this.#root, "metadata", ...path.split("/"))}.json`;
  }
}

interface FileMetadata extends BlobMetadata {
  /** When `put` stored the blob (milliseconds since the epoch), for retention. */
  readonly storedAt?: number;
}

function errorCode(error: unknown): unknown {
  return typeof error === "object" && error !== null && "code" in error ? error.code : undefined;
}

function isMissing(error: unknown): boolean {
  return errorCode(error) === "ENOENT";
}

/** Nothing there, or a file where a folder was expected (a glob walking past a blob's path). */
function isNoDirectory(error: unknown): boolean {
  return errorCode(error) === "ENOENT" || errorCode(error) === "ENOTDIR";
}

/** Write then rename, so a reader in another process never sees half a file. */
async function writeAtomically(file: string, contents: Uint8Array | string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temporary = `${file}.${randomUUID()}.tmp`;
  await writeFile(temporary, contents);
  await rename(temporary, file);
}

async function readOrCreateKey(file: string): Promise<Buffer> {
  try {
    await writeFile(file, randomBytes(32), { flag: "wx", mode: 0o600 });
  } catch (error) {
    if (errorCode(error) !== "EEXIST") throw error;
  }
  // Another process may have created it a moment ago: wait until its 32 bytes are there.
  for (let attempt = 0; ; attempt++) {
    const key = await readFile(file);
    if (key.length === 32 || attempt > 50) return key;
    await sleep(10);
  }
}

async function listNames(directory: string): Promise<string[]> {
  try {
    return await readdir(directory);
  } catch (error) {
    if (isNoDirectory(error)) return [];
    throw error;
  }
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile() && !file.endsWith(".tmp");
  } catch (error) {
    if (isNoDirectory(error)) return false;
    throw error;
  }
}

async function listFiles(directory: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(directory, { withFileTypes: true });
  } catch (error) {
    if (isNoDirectory(error)) return [];
    throw error;
  }
  const files: string[] = [];
  for (const entry of entries) {
    const full = join(directory, entry.name);
    if (entry.isDirectory()) files.push(...(await listFiles(full)));
    else if (!entry.name.endsWith(".tmp")) files.push(full);
  }
  return files;
}
