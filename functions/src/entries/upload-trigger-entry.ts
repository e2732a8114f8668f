import { processServices } from "../runtime/process-services.ts";

/** A client's own upload: `users/{uid}/uploads/<name>`, named by the client (the backend names its `upload-…`). */
const DIRECT_UPLOAD = /^users\/([^/]+)\/uploads\/(?!upload-)(.+)$/;

/**
 * What the `uploadCounter` Storage trigger runs for every object written to the bucket: a client's direct upload is
 * counted against the day's limits (and deleted when over them); everything else (generated media, uploads made
 * through `POST /uploads`, which are counted there) is left alone.
 */
export async function handleUploadFinalized(name: string, reportedSize: unknown): Promise<void> {
  const match = DIRECT_UPLOAD.exec(name);
  const uid = match?.[1];
  if (uid === undefined) return;
  // The event carries the size as a string (an int64 in JSON), whatever its type says: added as it came, it would
  // concatenate onto the day's bytes and make every later upload look over the limit.
  const size = Number(reportedSize);
  if (!Number.isFinite(size) || size < 0) throw new Error("An upload event without a size");
  const services = await processServices();
  const kept = await services.uploads.countDirect(uid, name, size);
  if (!kept) services.logger.warn("direct upload over the daily limit deleted", { size });
}
