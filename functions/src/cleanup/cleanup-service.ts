import type { BlobStore } from "../blobs/blob-store.ts";
import { finishMessage } from "../chat/finish-message.ts";
import type { DocumentDatabase } from "../database/document-database.ts";
import { longestSilenceMs, type DeliveryBudget } from "../jobs/delivery-budget.ts";
import type { JobLedger } from "../jobs/job-ledger.ts";
import { propagateJobStatus } from "../jobs/job-status-propagation.ts";
import { describeError, type Logger } from "../logging/logger.ts";
import { ownerOf, paths } from "../store/paths.ts";
import { queries } from "../store/queries.ts";
import {
  isFinishedJob,
  type ChatRecord,
  type JobRecord,
  type MessageRecord,
  type RequestRecord,
} from "../store/records.ts";
import type { ChatDeletion } from "../chat/chat-deletion.ts";
import type { AccountService } from "../account/account-service.ts";
import { AppError } from "../errors/app-error.ts";
import { deleteJobMedia, jobOfMedia, mediaPaths } from "../store/media-paths.ts";
import type { CleanupResult } from "../contract/resources.ts";

/**
 * The maintenance sweep behind `POST /admin/cleanup` and the scheduled `cleanup` function:
 *
 * - request mappings older than `requestRetentionMs` are deleted (Firestore's TTL on `expire_at` does the same
 *   eventually; TTL can lag by a day, so the sweep still matters);
 * - deleted accounts are purged once more when every token issued before their deletion has expired;
 * - chat deletions left unfinished (interrupted, or waiting for a worker to drop a cancelled job) are carried on;
 * - messages left `streaming` with no sign of life (`alive_at`) for `staleStreamMs` end `aborted` with their
 *   partial content (their generator died);
 * - answers waiting for an approval past their `approval_expires_at` end `aborted`, the call declined;
 * - unfinished jobs past their `abandon_at` (their lease expired beyond the retry budget: no delivery of their
 *   task can still come, see `jobs/delivery-budget.ts`) end `error`, and so do their messages;
 * - messages still `pending` after the longest silence a healthy job can keep are settled from their job: with its
 *   result if it finished (its status never reached the message), with an error if it is abandoned or gone;
 * - with `mediaRetentionMs` > 0, finished jobs' media (and the input copies they kept) older than that are
 *   deleted and their messages marked `media_expired`;
 * - generated media (images, videos, input copies) whose job document no longer exists are deleted: a walk through
 *   the bucket, a page per round from where the last round stopped, of blobs older than an hour;
 * - uploads (`users/{uid}/uploads/**`) older than `uploadRetentionMs` are deleted (a job keeps its own copy of
 *   an upload it names, so this never breaks a job).
 *
 * Each category is bounded by `batchSize` per call (`more` says whether to call again), every change is a
 * conditional transaction (something written since the query is left alone, so a live stream or a working job is
 * never touched), and a second run finds nothing left to do. The options come from the settings of those names
 * (`REQUEST_RETENTION_DAYS`, `STALE_STREAM_SECONDS`, `CLEANUP_BATCH_SIZE`, ...), converted by the composition root.
 */
/** One round's counts (the contract's `removed`), and whether a category filled its batch: call again then. */
export type CleanupReport = CleanupResult["removed"] & { readonly more: boolean };

/** What the sweep reads of the configuration, in milliseconds. */
export interface CleanupOptions {
  /** Things changed per category per call (`more` says whether to call again). */
  readonly batchSize: number;
  /** How long a request mapping (a request_id's idempotency) is kept. */
  readonly requestRetentionMs: number;
  /** A streaming message silent this long is ended `aborted`. */
  readonly staleStreamMs: number;
  /** How long finished jobs' media are kept; 0 keeps them for good. */
  readonly mediaRetentionMs: number;
  readonly uploadRetentionMs: number;
  /** The job tasks' delivery budget: how long a healthy job can go without a write. */
  readonly delivery: DeliveryBudget;
}

interface CleanupDependencies {
  readonly database: DocumentDatabase;
  readonly blobs: BlobStore;
  readonly ledger: JobLedger;
  readonly chatDeletion: ChatDeletion;
  readonly accounts: AccountService;
  readonly options: CleanupOptions;
  readonly logger: Logger;
  readonly now: () => number;
}

/** Generated media younger than this are never taken for orphans: their job may still be being written. */
const ORPHAN_MEDIA_AGE_MS = 3_600_000;

/** What a job that no delivery will finish, and its message, end with. */
const JOB_TIMED_OUT = { code: "unavailable", message: "The job did not finish in time." } as const;

export class CleanupService {
  readonly #dependencies: CleanupDependencies;

  constructor(dependencies: CleanupDependencies) {
    this.#dependencies = dependencies;
  }

  async sweep(): Promise<CleanupReport> {
    const { options, logger, now } = this.#dependencies;
    const started = now();
    const batch = options.batchSize;
    const mediaCutoff = new Date(started - options.mediaRetentionMs);
    const [requests, accounts, chats, streams, approvals, jobs, pending, media, uploads, orphans] = [
      await this.#expireRequests(new Date(started - options.requestRetentionMs), batch),
      await this.#purgeDeletedAccountsAgain(new Date(started), batch),
      await this.#finishChatDeletions(new Date(started), batch),
      await this.#abortStaleStreams(new Date(started - options.staleStreamMs), batch),
      await this.#endLapsedApprovals(new Date(started), batch),
      await this.#failAbandonedJobs(new Date(started), batch),
      await this.#settlePendingMessages(new Date(started - longestSilenceMs(options.delivery)), batch),
      options.mediaRetentionMs > 0 ? await this.#deleteExpiredMedia(mediaCutoff, batch) : NOTHING,
      await this.#deleteOldUploads(new Date(started - options.uploadRetentionMs), batch),
      await this.#deleteOrphanMedia(new Date(started - ORPHAN_MEDIA_AGE_MS), batch),
    ];
    const report: CleanupReport = {
      requests: requests.changed,
      deleted_chats: chats.changed,
      aborted_streams: streams.changed + approvals.changed,
      stale_jobs: jobs.changed + pending.changed,
      media: media.changed + uploads.changed + orphans.changed,
      more: [requests, accounts, chats, streams, approvals, jobs, pending, media, uploads, orphans].some(
        (outcome) => outcome.full,
      ),
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

  async #abortStaleStreams(cutoff: Date, batch: number): Promise<Outcome> {
    const { database, now } = this.#dependencies;
    const found = await database.query<MessageRecord>(queries.silentStreams(cutoff, batch));
    let changed = 0;
    for (const { path, data: message } of found) {
      const at = new Date(now());
      const ended = await finishMessage(
        database,
        ownerOf(path),
        message.message_id,
        { status: "aborted", error: { code: "aborted", message: "The answer was interrupted and did not finish." } },
        at,
        cutoff,
      );
      if (ended !== null && ended.updated_at.getTime() === at.getTime()) changed += 1;
    }
    return { changed, full: found.length >= batch };
  }

  async #endLapsedApprovals(at: Date, batch: number): Promise<Outcome> {
    const { database } = this.#dependencies;
    const found = await database.query<MessageRecord>(queries.lapsedApprovals(at, batch));
    let changed = 0;
    for (const { path, data: message } of found) {
      // Only while it still waits: an approval that came in since the query has moved it on.
      const ended = await finishMessage(
        database,
        ownerOf(path),
        message.message_id,
        { status: "aborted", error: { code: "aborted", message: "No approval came in time." } },
        at,
        undefined,
        (current) =>
          current.status === "awaiting_approval" && (current.approval_expires_at?.getTime() ?? 0) <= at.getTime(),
      );
      if (ended !== null && ended.updated_at.getTime() === at.getTime()) changed += 1;
    }
    return { changed, full: found.length >= batch };
  }

  async #purgeDeletedAccountsAgain(at: Date, batch: number): Promise<Outcome> {
    const { database, accounts } = this.#dependencies;
    const found = await database.query(queries.accountsToPurgeAgain(at, batch));
    for (const { id } of found) await accounts.purgeAgain(id);
    return { changed: 0, full: found.length >= batch };
  }

  /**
   * Carries on chat deletions left unfinished. One still waiting for a worker to drop a cancelled job stays (and
   * does not count as "more": another round now would find the same).
   */
  async #finishChatDeletions(at: Date, batch: number): Promise<Outcome> {
    const { database, chatDeletion } = this.#dependencies;
    const found = await database.query<ChatRecord>(queries.chatsBeingDeleted(at, batch));
    let changed = 0;
    for (const { path, data: chat } of found) {
      // One chat that fails (contention, a store hiccup) is logged and left for the next round, not the sweep.
      const progress = await chatDeletion.delete(ownerOf(path), chat.chat_id).catch((error: unknown) => {
        if (!(error instanceof AppError && error.code === "not_found")) {
          this.#dependencies.logger.warn("chat deletion not finished", {
            chat_id: chat.chat_id,
            ...describeError(error),
          });
        }
        return undefined;
      });
      if (progress?.status === "deleted") changed += 1;
    }
    return { changed, full: found.length >= batch && changed > 0 };
  }

  async #failAbandonedJobs(at: Date, batch: number): Promise<Outcome> {
    const { database } = this.#dependencies;
    const found = await database.query<JobRecord>(queries.abandonedJobs(at, batch));
    let changed = 0;
    for (const { path, data: job } of found) {
      if (await this.#failAbandoned(ownerOf(path), job.job_id, at)) changed += 1;
    }
    return { changed, full: found.length >= batch };
  }

  /**
   * A `pending` message moves only when its job's status reaches it (the Firestore trigger in firebase mode). One
   * silent for longer than any healthy job stays silent is settled from its job: with the job's result if it
   * finished (the status never arrived), with an error if the job is abandoned or gone. A job that is still within
   * its deadline is left to its deliveries. Each settled message counts once. Such live ones stay first in the
   * query, so a batch of nothing but them is not "more": another round would find the same.
   */
  async #settlePendingMessages(cutoff: Date, batch: number): Promise<Outcome> {
    const { database, ledger, now } = this.#dependencies;
    const found = await database.query<MessageRecord>(queries.stalePendingMessages(cutoff, batch));
    let changed = 0;
    for (const { path, data: message } of found) {
      const uid = ownerOf(path);
      const at = new Date(now());
      const job = message.job_id === undefined ? undefined : await ledger.get(uid, message.job_id);
      if (job === undefined) {
        const ended = await finishMessage(
          database,
          uid,
          message.message_id,
          { status: "error", error: JOB_TIMED_OUT },
          at,
          cutoff,
        );
        if (ended !== null && ended.updated_at.getTime() === at.getTime()) changed += 1;
      } else if (isFinishedJob(job)) {
        if ((await propagateJobStatus(database, uid, job, at)).message) changed += 1;
      } else if (await this.#failAbandoned(uid, job.job_id, at)) {
        changed += 1;
      }
    }
    return { changed, full: found.length >= batch && changed > 0 };
  }

  /**
   * Ends a job `error` if its `abandon_at` had passed by `at` (checked again in the transaction), carries that
   * onto its message and request at once, whether or not a trigger will too (propagation only moves forward),
   * and deletes the input copies it kept (no worker will read them).
   */
  async #failAbandoned(uid: string, jobId: string, at: Date): Promise<boolean> {
    const { database, blobs, ledger } = this.#dependencies;
    const failed = await ledger.fail(uid, jobId, JOB_TIMED_OUT, { abandonedBy: at });
    if (failed === undefined) return false;
    await propagateJobStatus(database, uid, failed, at);
    await blobs.deletePrefix(mediaPaths.jobInputs(uid, jobId));
    return true;
  }

  async #deleteExpiredMedia(cutoff: Date, batch: number): Promise<Outcome> {
    const { database, blobs, ledger, now } = this.#dependencies;
    const found = await database.query<JobRecord>(queries.jobsWithExpiredMedia(cutoff, batch));
    let deleted = 0;
    for (const { path, data: job } of found) {
      const uid = ownerOf(path);
      // The message first, the job last: a sweep cut short anywhere leaves the job to be found again, and never
      // a message pointing at media that are gone.
      await database.transaction(async (transaction) => {
        const messagePath = paths.message(uid, job.message_id);
        if ((await transaction.get(messagePath)) !== null) {
          transaction.update(messagePath, { media_expired: true, updated_at: new Date(now()) });
        }
      });
      deleted += await deleteJobMedia(blobs, uid, job.job_id);
      await ledger.markMediaDeleted(uid, job.job_id);
    }
    return { changed: deleted, full: found.length >= batch };
  }

  /**
   * One page of the walk through every user's generated media: a blob whose job is gone belongs to nothing (a
   * worker that crashed between storing and completing, a deletion cut short) and is deleted. The walk goes on
   * from where the last round stopped, and starts over once it reaches the end. A page that deleted nothing is not
   * "more": the schedule carries the walk on.
   */
  async #deleteOrphanMedia(cutoff: Date, batch: number): Promise<Outcome> {
    const { database, blobs, ledger } = this.#dependencies;
    const after = (await database.get<{ after?: string }>(paths.mediaSweepCursor))?.data.after;
    const found = await blobs.listStoredBefore(mediaPaths.everything, cutoff, batch, after);
    const known = new Map<string, boolean>();
    let deleted = 0;
    for (const path of found) {
      const owner = jobOfMedia(path);
      if (owner === undefined) continue;
      const key = `${owner.uid}/${owner.jobId}`;
      let exists = known.get(key);
      if (exists === undefined) {
        exists = (await ledger.get(owner.uid, owner.jobId)) !== undefined;
        known.set(key, exists);
      }
      if (!exists) {
        await blobs.delete(path);
        deleted += 1;
      }
    }
    const last = found.at(-1);
    await database.set(paths.mediaSweepCursor, found.length < batch || last === undefined ? {} : { after: last });
    return { changed: deleted, full: found.length >= batch && deleted > 0 };
  }

  async #deleteOldUploads(cutoff: Date, batch: number): Promise<Outcome> {
    const { blobs } = this.#dependencies;
    const found = await blobs.listStoredBefore(mediaPaths.everyUsersUploads, cutoff, batch);
    for (const path of found) await blobs.delete(path);
    return { changed: found.length, full: found.length >= batch };
  }
}

interface Outcome {
  readonly changed: number;
  readonly full: boolean;
}

const NOTHING: Outcome = { changed: 0, full: false };
