import type { BlobStore } from "../blobs/blob-store.ts";
import { isValidDocumentId } from "../database/firestore-limits.ts";
import { CLIENT_ID_PATTERN } from "../contract/identifiers.ts";

/**
 * Where each kind of media lives in the blob store (Cloud Storage, or files in embedded mode). Like documents,
 * everything sits under `users/{uid}`, which `storage.rules` relies on: owners read their own media and upload
 * only under `uploads/`.
 */
export const mediaPaths = {
  /** Folder of a user's uploads (`POST /uploads`, or the Firebase SDK straight to Cloud Storage). */
  uploads: (uid: string) => `users/${uid}/uploads/`,
  /** Every user's uploads, as a blob-store glob (retention). */
  everyUsersUploads: "users/*/uploads/**",
  /** Folder of a job's generated images. */
  jobImages: (uid: string, jobId: string) => `users/${uid}/images/${jobId}/`,
  /** A job's generated video, without its extension (a prefix). */
  jobVideo: (uid: string, jobId: string) => `users/${uid}/videos/${jobId}.`,
  /** Folder of the copies of a job's input images (inline or uploaded): the job's own. */
  jobInputs: (uid: string, jobId: string) => `users/${uid}/inputs/${jobId}/`,
  /** Every user's every blob, as a blob-store glob (the orphan sweep). */
  everything: "users/*/**",
} as const;

/**
 * The user and job a generated blob belongs to (images, videos, input copies); undefined for uploads, and for
 * names no job of ours could have made (those are left alone).
 */
export function jobOfMedia(path: string): { uid: string; jobId: string } | undefined {
  const [root, uid, kind, name] = path.split("/");
  if (root !== "users" || uid === undefined || name === undefined) return undefined;
  let jobId: string | undefined;
  if (kind === "images" || kind === "inputs") jobId = name;
  else if (kind === "videos" && name.includes(".")) jobId = name.slice(0, name.lastIndexOf("."));
  if (jobId === undefined || !isValidDocumentId(uid) || !CLIENT_ID_PATTERN.test(jobId)) return undefined;
  return { uid, jobId };
}

/** Deletes everything a job stored: its images, its video and its input copies. Returns how many blobs. */
export async function deleteJobMedia(blobs: BlobStore, uid: string, jobId: string): Promise<number> {
  let deleted = 0;
  for (const prefix of [mediaPaths.jobImages, mediaPaths.jobVideo, mediaPaths.jobInputs]) {
    deleted += await blobs.deletePrefix(prefix(uid, jobId));
  }
  return deleted;
}
