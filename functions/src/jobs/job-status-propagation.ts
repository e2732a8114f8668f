import type { DocumentDatabase } from "../database/document-database.ts";
import { paths } from "../store/paths.ts";
import type { JobRecord, MessageRecord, RequestRecord, RequestStatus } from "../store/records.ts";
import type { JobStatus } from "../contract/resources.ts";

/**
 * Carries a job's state onto its assistant message and request mapping: progress while it runs, the images or
 * video when it is done, the error when it failed. It only moves forward: a finished message is never touched
 * again, a request's status never goes back, progress never shrinks. So a late or repeated event (Firestore
 * triggers are at least once, and out of order) changes nothing. Firebase mode runs it in the
 * `jobStatusTrigger` Firestore trigger; embedded mode runs the same function in-process after each job write.
 */

const REQUEST_RANK: Readonly<Record<RequestStatus, number>> = {
  queued: 0,
  streaming: 0,
  awaiting_approval: 0,
  running: 1,
  done: 2,
  error: 2,
  aborted: 2,
};

function requestStatusOf(status: JobStatus): RequestStatus {
  return status;
}

export async function propagateJobStatus(
  database: DocumentDatabase,
  uid: string,
  job: JobRecord,
  now: Date,
): Promise<{ message: boolean; request: boolean }> {
  return database.transaction(async (transaction) => {
    const messagePath = paths.message(uid, job.message_id);
    const requestPath = paths.request(uid, job.request_id);
    const message = (await transaction.get<MessageRecord>(messagePath))?.data;
    const request = (await transaction.get<RequestRecord>(requestPath))?.data;
    let messageChanged = false;
    let requestChanged = false;

    if (message !== undefined && (message.status === "pending" || message.status === "streaming")) {
      if (job.status === "done") {
        transaction.update(messagePath, {
          status: "done",
          progress: 1,
          updated_at: now,
          model: job.model,
          ...(job.usage === undefined ? {} : { usage: job.usage }),
          ...(job.fallback_from === undefined ? {} : { fallback_from: job.fallback_from }),
          ...(job.images === undefined ? {} : { images: job.images }),
          ...(job.mask_applied === true ? { mask_applied: true } : {}),
          ...(job.video_path === undefined ? {} : { video_path: job.video_path, video_url: job.video_url }),
          ...(job.poster_path === undefined
            ? {}
            : {
                poster_path: job.poster_path,
                poster_url: job.poster_url,
                duration_seconds: job.duration_seconds,
                width: job.width,
                height: job.height,
              }),
        });
        messageChanged = true;
      } else if (job.status === "error") {
        transaction.update(messagePath, {
          status: "error",
          updated_at: now,
          error: job.error ?? "The job failed.",
          error_code: job.error_code ?? "internal",
          ...(job.usage === undefined ? {} : { usage: job.usage }),
        });
        messageChanged = true;
      } else if ((job.progress ?? 0) > (message.progress ?? 0)) {
        transaction.update(messagePath, { progress: job.progress, updated_at: now });
        messageChanged = true;
      }
    }

    if (request !== undefined && request.job_id === job.job_id) {
      const next = requestStatusOf(job.status);
      if (REQUEST_RANK[next] > REQUEST_RANK[request.status]) {
        transaction.update(requestPath, {
          status: next,
          updated_at: now,
          ...(job.status === "error" && job.error !== undefined ? { error: job.error } : {}),
        });
        requestChanged = true;
      }
    }
    return { message: messageChanged, request: requestChanged };
  });
}
