import { processServices } from "../runtime/process-services.ts";

/** A client's own upload: `users/{uid}/uploads/<name>`, named by the client (the backend names its `upload-…`). */
const DIRECT_UPLOAD = /^users\/([^/]+)\/uploads\/(?!upload-)(.+)$/;

/**
 * What the `uploadCounter` Storage trigger runs for every object written to the bucket: a client's direct upload is
 * counted against the day's limits (and deleted when over them); everything else (generated media, uploads made
 * through `POST /uploads`, which are counted there) is left alone.
 */
export async function handleUploadFinalized(name: string, size: number): Promise<void> {
  const match = DIRECT_UPLOAD.exec(name);
  const uid = match?.[1];
  if (uid === undefined) return;
  const services = await processServices();
  const kept = await services.uploads.countDirect(uid, name, size);
  if (!kept) services.logger.warn("direct upload over the daily limit deleted", { size });
}
