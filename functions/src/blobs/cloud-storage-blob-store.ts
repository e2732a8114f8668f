import { randomUUID } from "node:crypto";
import type { App } from "firebase-admin/app";
import type { Storage } from "firebase-admin/storage";
import {
  assertBlobPath,
  BlobMissingError,
  globMatcher,
  isBlobPath,
  type BlobMetadata,
  type BlobStore,
  type StoredBlob,
} from "./blob-store.ts";

/**
 * Cloud Storage media. Each object gets a Firebase download token at upload, so its URL is the same one the
 * Firebase client SDKs hand out (`getDownloadURL`): fetchable by whoever holds it, revocable by changing the
 * token. `put` builds the URL from the token it just set, without the metadata request `getDownloadURL` makes.
 */

type Bucket = ReturnType<Storage["bucket"]>;

const TOKEN_METADATA = "firebaseStorageDownloadTokens";

function isNotFound(error: unknown): boolean {
  return typeof error === "object" && error !== null && "code" in error && error.code === 404;
}

export async function openCloudStorageBlobStore(app: App, bucketName: string): Promise<CloudStorageBlobStore> {
  const { getStorage } = await import("firebase-admin/storage");
  return new CloudStorageBlobStore(getStorage(app).bucket(bucketName));
}

class CloudStorageBlobStore implements BlobStore {
  readonly #bucket: Bucket;

  constructor(bucket: Bucket) {
    this.#bucket = bucket;
  }

  async put(path: string, bytes: Uint8Array, contentType: string): Promise<string> {
    assertBlobPath(path);
    const token = randomUUID();
    await this.#bucket.file(path).save(Buffer.from(bytes), {
      resumable: false,
      contentType,
      metadata: { contentType, cacheControl: "private, max-age=3600", metadata: { [TOKEN_METADATA]: token } },
    });
    return this.#downloadUrl(path, token);
  }

  async get(path: string): Promise<StoredBlob | null> {
    const metadata = await this.stat(path);
    if (metadata === null) return null;
    try {
      const [bytes] = await this.#bucket.file(path).download();
      return { ...metadata, bytes };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async stat(path: string): Promise<BlobMetadata | null> {
    assertBlobPath(path);
    try {
      const [metadata] = await this.#bucket.file(path).getMetadata();
      return { contentType: metadata.contentType ?? "application/octet-stream", size: Number(metadata.size ?? 0) };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async delete(path: string): Promise<void> {
    assertBlobPath(path);
    await this.#bucket.file(path).delete({ ignoreNotFound: true });
  }

  async deletePrefix(prefix: string): Promise<number> {
    const [files] = await this.#bucket.getFiles({ prefix });
    await Promise.all(files.map((file) => file.delete({ ignoreNotFound: true })));
    return files.length;
  }

  async listStoredBefore(glob: string, cutoff: Date, limit: number, startAfter?: string): Promise<string[]> {
    const found: string[] = [];
    // The literal start and Cloud Storage's matchGlob narrow the listing; names are still checked here, since the
    // Storage emulator ignores matchGlob and its `*` also matches an empty segment. Names this port could not
    // address (storage.rules refuses them at upload) are passed over.
    const prefix = glob.slice(0, glob.search(/\*|$/));
    const matches = globMatcher(glob);
    let pageToken: string | undefined;
    do {
      const [files, next] = await this.#bucket.getFiles({
        prefix,
        matchGlob: glob,
        autoPaginate: false,
        maxResults: 1000,
        // Cloud Storage lists in name order; startOffset is inclusive, so the name itself is passed over below.
        ...(startAfter === undefined ? {} : { startOffset: startAfter }),
        ...(pageToken === undefined ? {} : { pageToken }),
      });
      for (const file of files) {
        const stored = Date.parse(String(file.metadata.timeCreated));
        const after = startAfter === undefined || file.name > startAfter;
        if (after && matches(file.name) && isBlobPath(file.name) && stored < cutoff.getTime()) found.push(file.name);
        if (found.length >= limit) return found;
      }
      // The next query is null after the last page, whatever the type says.
      pageToken = (next as { pageToken?: string } | null)?.pageToken;
    } while (pageToken !== undefined);
    return found;
  }

  async url(path: string): Promise<string> {
    assertBlobPath(path);
    const file = this.#bucket.file(path);
    let metadata;
    try {
      [metadata] = await file.getMetadata();
    } catch (error) {
      if (typeof error === "object" && error !== null && "code" in error && error.code === 404) {
        throw new BlobMissingError(path);
      }
      throw error;
    }
    let token = String(metadata.metadata?.[TOKEN_METADATA] ?? "").split(",")[0] ?? "";
    if (token === "") {
      token = randomUUID();
      await file.setMetadata({ metadata: { [TOKEN_METADATA]: token } });
    }
    return this.#downloadUrl(path, token);
  }

  /** A download-token URL lasts as long as its token: the stored one is handed out as it is. */
  refreshUrl(path: string, storedUrl: string): string {
    assertBlobPath(path);
    return storedUrl;
  }

  /** Throws when the bucket cannot be reached or does not exist (a wrong `FIREBASE_STORAGE_BUCKET`). */
  async ping(): Promise<void> {
    const [exists] = await this.#bucket.exists();
    if (!exists) throw new Error(`The storage bucket ${this.#bucket.name} does not exist`);
  }

  #downloadUrl(path: string, token: string): string {
    const host = process.env.STORAGE_EMULATOR_HOST ?? "https://firebasestorage.googleapis.com";
    const origin = host.startsWith("http") ? host : `http://${host}`;
    return `${origin}/v0/b/${this.#bucket.name}/o/${encodeURIComponent(path)}?alt=media&token=${token}`;
  }
}
