import type { Job } from "../contract/resources.ts";
import type { BlobStore } from "../blobs/blob-store.ts";
import type { JobRecord } from "../store/records.ts";
import { servedMedia } from "../store/served-media.ts";
import { usageView } from "../store/usage-ledger.ts";

/**
 * A job as clients see it (`GET /jobs/{job_id}`, `GET /video/status/{job_id}`): its media as `servedMedia` shows
 * them, ISO dates.
 */
export async function toApiJob(job: JobRecord, blobs: BlobStore): Promise<Job> {
  return {
    ok: true,
    job_id: job.job_id,
    kind: job.kind,
    status: job.status,
    progress: job.status === "done" ? 1 : (job.progress ?? 0),
    chat_id: job.chat_id,
    message_id: job.message_id,
    request_id: job.request_id,
    model: job.model,
    ...(job.fallback_from === undefined ? {} : { fallback_from: job.fallback_from }),
    provider: job.provider,
    ...(job.status === "done" ? await servedMedia(job, blobs) : {}),
    ...(job.mask_applied === true ? { mask_applied: true } : {}),
    ...(job.status === "done" && job.duration_seconds !== undefined
      ? { duration_seconds: job.duration_seconds, width: job.width, height: job.height }
      : {}),
    ...(job.status === "error" ? { error: job.error ?? "The job failed.", error_code: job.error_code } : {}),
    ...(job.usage === undefined ? {} : { usage: usageView(job.usage) }),
    created_at: job.created_at.toISOString(),
    updated_at: job.updated_at.toISOString(),
  };
}
