import type { BlobStore } from "../blobs/blob-store.ts";
import { finishMessage } from "../chat/finish-message.ts";
import type { Settings } from "../config/settings.ts";
import type { DocumentDatabase } from "../database/document-database.ts";
import type { JobLedger } from "../jobs/job-ledger.ts";
import type { Logger } from "../logging/logger.ts";
import { ownerOf, paths } from "../store/paths.ts";
import { queries } from "../store/queries.ts";
import type { JobRecord, MessageRecord, RequestRecord } from "../store/records.ts";

/**
 * The maintenance sweep behind `POST /admin/cleanup` and the scheduled `cleanup` function:
 *
 * - request mappings older than `REQUEST_RETENTION_DAYS` are deleted (Firestore's TTL on `expire_at` does the
 *   same eventually; TTL can lag by a day, so the sweep still matters);
 * - messages left `streaming` with no write for `STALE_STREAM_SECONDS` end `aborted` (their generator died);
 * - messages left `pending` and unfinished jobs with no write for `STALE_JOB_SECONDS` (far beyond any lease and
 *   retry budget) end `error`;
 * - with `MEDIA_RETENTION_DAYS` > 0, finished jobs' media older than that are deleted and their messages marked
 *   `media_expired`.
 *
 * Each category is bounded by `CLEANUP_BATCH_SIZE` per call (`more` says whether to call again), every change is
 * a conditional transaction (something written since the query is left alone, so a live stream or a working job
 * is never touched), and a second run finds nothing left to do.
 */
export interface CleanupReport {
  readonly requests: number;
  readonly aborted_streams: number;
  readonly stale_jobs: number;
  readonly media: number;
  /** A category filled its batch: call again to continue. */
  readonly more: boolean;
}

export interface CleanupDependencies {
  readonly database: DocumentDatabase;
  readonly blobs: BlobStore;
  readonly ledger: JobLedger;
  readonly settings: Settings;
  readonly logger: Logger;
  readonly now: () => number;
}

const DAY_MS = 86_400_000;

export class CleanupService {
  readonly #dependencies: CleanupDependencies;

  constructor(dependencies: CleanupDependencies) {
    this.#dependencies = dependencies;
  }

  async sweep(): Promise<CleanupReport> {
    const { settings, logger, now } = this.#dependencies;
    const started = now();
    const batch = settings.CLEANUP_BATCH_SIZE;
    const [requests, streams, pending, jobs, media] = [
      await this.#expireRequests(new Date(started - settings.REQUEST_RETENTION_DAYS * DAY_MS), batch),
      await this.#endStaleMessages("streaming", new Date(started - settings.STALE_STREAM_SECONDS * 1000), batch),
      await this.#endStaleMessages("pending", new Date(started - settings.STALE_JOB_SECONDS * 1000), batch),
      await this.#failStaleJobs(new Date(started - settings.STALE_JOB_SECONDS * 1000), batch),
      settings.MEDIA_RETENTION_DAYS > 0
        ? await this.#deleteExpiredMedia(new Date(started - settings.MEDIA_RETENTION_DAYS * DAY_MS), batch)
        : { changed: 0, full: false },
    ];
    const report: CleanupReport = {
      requests: requests.changed,
      aborted_streams: streams.changed,
      stale_jobs: pending.changed + jobs.changed,
      media: media.changed,
      more: [requests, streams, pending, jobs, media].some((outcome) => outcome.full),
    };
    logger.info("cleanup", { ...report, duration_ms: now() - started });
    return report;
  }

  async #expireRequests(cutoff: Date, batch: number): Promise<Outcome> {
    const { database } = this.#dependencies;
    const found = await database.query<RequestRecord>(queries.requestsCreatedBefore(cutoff, batch));
    for (const document of found) await database.delete(document.path);
    return { changed: found.length, full: found.length >= batch };
  }

  async #endStaleMessages(status: "streaming" | "pending", cutoff: Date, batch: number): Promise<Outcome> {
    const { database, ledger, now } = this.#dependencies;
    const found = await database.query<MessageRecord>(queries.staleMessages(status, cutoff, batch));
    let changed = 0;
    for (const { path, data: message } of found) {
      const uid = ownerOf(path);
      const at = new Date(now());
      const ended = await finishMessage(
        database,
        uid,
        message.message_id,
        status === "streaming"
          ? { status: "aborted", error: { code: "aborted", message: "The answer was interrupted and did not finish." } }
          : { status: "error", error: { code: "unavailable", message: "The job did not finish in time." } },
        at,
        cutoff,
      );
      if (ended !== null && ended.updated_at.getTime() === at.getTime()) changed += 1;
      if (status === "pending" && message.job_id !== undefined) {
        await ledger.fail(
          uid,
          message.job_id,
          { code: "unavailable", message: "The job did not finish in time." },
          { unchangedSince: cutoff },
        );
      }
    }
    return { changed, full: found.length >= batch };
  }

  async #failStaleJobs(cutoff: Date, batch: number): Promise<Outcome> {
    const { database, ledger } = this.#dependencies;
    const found = await database.query<JobRecord>(queries.staleJobs(cutoff, batch));
    let changed = 0;
    for (const { path, data: job } of found) {
      const failed = await ledger.fail(
        ownerOf(path),
        job.job_id,
        { code: "unavailable", message: "The job did not finish in time." },
        { unchangedSince: cutoff },
      );
      if (failed !== undefined) changed += 1;
    }
    return { changed, full: found.length >= batch };
  }

  async #deleteExpiredMedia(cutoff: Date, batch: number): Promise<Outcome> {
    const { database, blobs, ledger, now } = this.#dependencies;
    const found = await database.query<JobRecord>(queries.jobsWithExpiredMedia(cutoff, batch));
    let deleted = 0;
    for (const { path, data: job } of found) {
      const uid = ownerOf(path);
      deleted += await blobs.deletePrefix(`users/${uid}/images/${job.job_id}/`);
      deleted += await blobs.deletePrefix(`users/${uid}/videos/${job.job_id}.`);
      deleted += await blobs.deletePrefix(`users/${uid}/inputs/${job.job_id}/`);
      await ledger.markMediaDeleted(uid, job.job_id);
      await database.transaction(async (transaction) => {
        const messagePath = paths.message(uid, job.message_id);
        if ((await transaction.get(messagePath)) !== null) {
          transaction.update(messagePath, { media_expired: true, updated_at: new Date(now()) });
        }
      });
    }
    return { changed: deleted, full: found.length >= batch };
  }
}

interface Outcome {
  readonly changed: number;
  readonly full: boolean;
}
