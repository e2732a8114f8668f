import { BlobMissingError, type BlobStore } from "../blobs/blob-store.ts";
import type { ServedMedia } from "../contract/resources.ts";
import type { StoredImage } from "./records.ts";

/** What a message or job stored about its media. */
interface MediaFields {
  readonly images?: readonly StoredImage[];
  readonly video_path?: string;
  readonly video_url?: string;
  readonly poster_path?: string;
  readonly poster_url?: string;
  readonly media_expired?: boolean;
  readonly media_deleted?: boolean;
}

/**
 * The URL to show for a stored blob on a read: from the URL recorded when it was made, with no storage call; for
 * a record that has none, from the store, and `undefined` when the object is gone.
 */
async function servedUrl(blobs: BlobStore, path: string, storedUrl: string | undefined): Promise<string | undefined> {
  if (storedUrl !== undefined && storedUrl !== "") return blobs.refreshUrl(path, storedUrl);
  try {
    return await blobs.url(path);
  } catch (error) {
    if (error instanceof BlobMissingError) return undefined;
    throw error;
  }
}

/**
 * The media of a message or job for a history page or a job view. A page of many images costs no storage call
 * (their URLs were recorded at completion), and an object lost since (a lifecycle rule, a console delete) costs
 * its own URL, flagged `media_missing`, never the page. Expired or deleted media show nothing.
 */
export async function servedMedia(record: MediaFields, blobs: BlobStore): Promise<ServedMedia> {
  if (record.media_expired === true || record.media_deleted === true) return {};
  let missing = false;
  const images =
    record.images === undefined
      ? undefined
      : await Promise.all(
          record.images.map(async ({ path, url, mime_type, width, height, thumbnail_path, thumbnail_url }) => {
            const [served, thumbnail] = await Promise.all([
              servedUrl(blobs, path, url),
              thumbnail_path === undefined ? undefined : servedUrl(blobs, thumbnail_path, thumbnail_url),
            ]);
            if (served === undefined) missing = true;
            return {
              ...(served === undefined ? {} : { url: served }),
              ...(served === undefined || thumbnail === undefined ? {} : { thumbnail_url: thumbnail }),
              mime_type,
              ...(width === undefined ? {} : { width }),
              ...(height === undefined ? {} : { height }),
            };
          }),
        );
  const videoUrl =
    record.video_path === undefined ? undefined : await servedUrl(blobs, record.video_path, record.video_url);
  if (record.video_path !== undefined && videoUrl === undefined) missing = true;
  const posterUrl =
    record.poster_path === undefined || videoUrl === undefined
      ? undefined
      : await servedUrl(blobs, record.poster_path, record.poster_url);
  return {
    ...(images === undefined ? {} : { images }),
    ...(videoUrl === undefined ? {} : { video_url: videoUrl }),
    ...(posterUrl === undefined ? {} : { poster_url: posterUrl }),
    ...(missing ? { media_missing: true } : {}),
  };
}
