import type { DocumentDatabase, Transaction } from "../database/document-database.ts";
import { settleRecord } from "../store/usage-ledger.ts";
import type { ErrorCode } from "../contract/error-codes.ts";
import type { TaskDelivery } from "../queue/task-queue.ts";
import { paths } from "../store/paths.ts";
import { isFinishedJob, type JobRecord } from "../store/records.ts";
import { abandonDeadline, longestSilenceMs, type DeliveryBudget, type NextDelivery } from "./delivery-budget.ts";

/**
 * Every change of a job's state, each one transaction. Cloud Tasks delivers at least once, so a worker first
 * **claims** the job: it takes a lease (`lease_owner`, `lease_expires_at`) that a second delivery respects; a
 * lease that expired (its worker crashed) can be taken over. Writes that only the lease holder may make check
 * the owner. A finished job (`done` or `error`) never changes again. Whenever the next delivery changes, the
 * job's `abandon_at` moves with it (see `delivery-budget.ts`): the cleanup sweep ends only jobs past it.
 *
 * After each write the `afterWrite` hook runs; embedded mode passes status propagation there (firebase mode
 * leaves it to the Firestore trigger).
 */

/** How a cancelled job ends: its chat or account was deleted. */
const CANCELLED = {
  status: "error",
  error: "Cancelled: its chat was deleted.",
  error_code: "aborted",
} as const satisfies Partial<JobRecord>;

type Claim =
  | { readonly outcome: "claimed"; readonly job: JobRecord }
  | { readonly outcome: "missing" }
  /** `ended`: this claim ended it (a cancellation found at claim time). */
  | { readonly outcome: "finished"; readonly job: JobRecord; readonly ended?: true }
  | { readonly outcome: "busy"; readonly job: JobRecord };

interface JobLedgerOptions {
  readonly leaseMs: number;
  readonly delivery: DeliveryBudget;
  readonly now: () => number;
  readonly afterWrite?: (uid: string, job: JobRecord) => Promise<void>;
  /** Told once of each job that ends (done or error), after the write that ended it (its metrics). */
  readonly onFinished?: (job: JobRecord) => void;
}

/**
 * A job as it is stored after a change: when the change finishes it, its budget reservation is settled in the
 * same transaction and the charge leaves the record. A failure costs nothing; a cancellation (its chat or account
 * deleted) costs what the job had recorded as begun at the provider (a video whose generation started), since
 * the provider bills it all the same.
 */
async function settled(transaction: Transaction, uid: string, before: JobRecord, next: JobRecord): Promise<JobRecord> {
  if (isFinishedJob(before) || !isFinishedJob(next)) return next;
  const failed = next.status === "error" && next.error_code !== CANCELLED.error_code;
  return settleRecord(transaction, uid, next, failed, next.updated_at);
}

export class JobLedger {
  readonly #database: DocumentDatabase;
  readonly #options: JobLedgerOptions;

  constructor(database: DocumentDatabase, options: JobLedgerOptions) {
    this.#database = database;
    this.#options = options;
  }

  async get(uid: string, jobId: string): Promise<JobRecord | undefined> {
    return (await this.#database.get<JobRecord>(paths.job(uid, jobId)))?.data;
  }

  /** When a job whose next delivery is `next` is abandoned, if nobody writes it before. */
  deadline(next: NextDelivery): Date {
    return abandonDeadline(next, this.#options.delivery);
  }

  /** When `job` is abandoned; for a job written before `abandon_at` existed, a whole task's budget after its last write. */
  abandonAt(job: JobRecord): Date {
    return job.abandon_at ?? new Date(job.updated_at.getTime() + longestSilenceMs(this.#options.delivery));
  }

  /**
   * Takes the job's lease for `owner` (queued, or running with an expired lease), counting the attempt.
   * `delivery` is the task delivery that claims: its task has `maxAttempts - retryCount` deliveries left.
   */
  async claim(uid: string, jobId: string, owner: string, delivery: TaskDelivery): Promise<Claim> {
    const claim = await this.#database.transaction(async (transaction): Promise<Claim> => {
      const path = paths.job(uid, jobId);
      const job = (await transaction.get<JobRecord>(path))?.data;
      if (job === undefined) return { outcome: "missing" };
      if (isFinishedJob(job)) return { outcome: "finished", job };
      const now = this.#options.now();
      const leaseExpired = job.lease_expires_at === undefined || job.lease_expires_at.getTime() <= now;
      if (job.status === "running" && !leaseExpired && job.lease_owner !== owner) return { outcome: "busy", job };
      if (job.cancel_requested_at !== undefined) {
        // Cancelled while its worker held it, and that worker is gone: end it here rather than start again.
        const ended = await settled(transaction, uid, job, {
          ...job,
          ...CANCELLED,
          completed_at: new Date(now),
          updated_at: new Date(now),
        });
        transaction.set(path, ended);
        return { outcome: "finished", job: ended, ended: true };
      }
      const claimed: JobRecord = {
        ...job,
        status: "running",
        lease_owner: owner,
        lease_expires_at: new Date(now + this.#options.leaseMs),
        attempts: job.attempts + 1,
        abandon_at: this.deadline({ at: new Date(now), attemptsLeft: delivery.maxAttempts - delivery.retryCount }),
        started_at: job.started_at ?? new Date(now),
        updated_at: new Date(now),
      };
      transaction.set(path, claimed);
      return { outcome: "claimed", job: claimed };
    });
    if (claim.outcome === "finished" && claim.ended) this.#options.onFinished?.(claim.job);
    if (claim.outcome === "claimed" || (claim.outcome === "finished" && claim.job.error_code === "aborted")) {
      await this.#options.afterWrite?.(uid, claim.job);
    }
    return claim;
  }

  /**
   * Cancels a job whose chat or account is being deleted. A job nobody works on (queued, or its lease expired)
   * ends at once, `error` with code `aborted`; one a worker holds is marked `cancel_requested_at`, and that worker
   * ends it at its next write (`update`, `complete`, `release`), storing nothing. Returns the job as it now is.
   */
  requestCancel(uid: string, jobId: string): Promise<JobRecord | undefined> {
    const now = new Date(this.#options.now());
    return this.#write(uid, jobId, (job) => {
      if (isFinishedJob(job)) return undefined;
      const held = job.status === "running" && (job.lease_expires_at?.getTime() ?? 0) > now.getTime();
      if (held) return job.cancel_requested_at === undefined ? { cancel_requested_at: now } : undefined;
      return { ...CANCELLED, completed_at: now, lease_expires_at: now };
    });
  }

  /** Changes a running job's fields, if `owner` still holds its lease. Returns the job, or undefined if not. */
  update(uid: string, jobId: string, owner: string, fields: Partial<JobRecord>): Promise<JobRecord | undefined> {
    return this.#write(uid, jobId, (job) => this.#cancelledOr(job, owner, fields));
  }

  /** Ends a job `done`, if `owner` still holds its lease. */
  complete(uid: string, jobId: string, owner: string, fields: Partial<JobRecord>): Promise<JobRecord | undefined> {
    const now = new Date(this.#options.now());
    return this.#write(uid, jobId, (job) =>
      this.#cancelledOr(job, owner, {
        ...fields,
        status: "done",
        progress: 1,
        completed_at: now,
        lease_expires_at: now,
      }),
    ).then((job) => (job?.status === "done" ? job : undefined));
  }

  /**
   * Ends an unfinished job `error` with a user-safe message. With `owner`, only while that worker holds the
   * lease; without (enqueue failures, the cleanup sweep), whoever holds it. With `abandonedBy`, only if the
   * job's `abandon_at` had passed by then (a write since moved it on, so the sweep never races a live worker).
   */
  fail(
    uid: string,
    jobId: string,
    error: { readonly code: ErrorCode; readonly message: string },
    conditions: { readonly owner?: string; readonly abandonedBy?: Date } = {},
  ): Promise<JobRecord | undefined> {
    const now = new Date(this.#options.now());
    return this.#write(uid, jobId, (job) =>
      !isFinishedJob(job) &&
      (conditions.owner === undefined || job.lease_owner === conditions.owner) &&
      (conditions.abandonedBy === undefined || this.abandonAt(job).getTime() <= conditions.abandonedBy.getTime())
        ? { status: "error", error: error.message, error_code: error.code, completed_at: now, lease_expires_at: now }
        : undefined,
    );
  }

  /**
   * Moves an unfinished job's `abandon_at` later, to cover a delivery scheduled by a worker that does not hold
   * the lease (a takeover). Never earlier.
   */
  extendDeadline(uid: string, jobId: string, next: NextDelivery): Promise<JobRecord | undefined> {
    const deadline = this.deadline(next);
    return this.#write(uid, jobId, (job) =>
      !isFinishedJob(job) && this.abandonAt(job).getTime() < deadline.getTime() ? { abandon_at: deadline } : undefined,
    );
  }

  /** Marks a finished job's media deleted (retention). */
  markMediaDeleted(uid: string, jobId: string): Promise<JobRecord | undefined> {
    return this.#write(uid, jobId, (job) => (job.media_deleted === true ? undefined : { media_deleted: true }));
  }

  /**
   * Gives the lease back early (a retry or the next poll may claim at once), keeping the job running; `next` is
   * the delivery that will carry it on (a retry of this task, or a scheduled poll task).
   */
  release(
    uid: string,
    jobId: string,
    owner: string,
    next: NextDelivery,
    fields: Partial<JobRecord> = {},
  ): Promise<JobRecord | undefined> {
    const now = new Date(this.#options.now());
    return this.#write(uid, jobId, (job) =>
      this.#cancelledOr(job, owner, { ...fields, lease_expires_at: now, abandon_at: this.deadline(next) }),
    );
  }

  /**
   * What the lease holder's write becomes: `fields`, or, when a cancellation was requested meanwhile, the end of
   * the job (`aborted`); nothing for anyone else.
   */
  #cancelledOr(job: JobRecord, owner: string, fields: Partial<JobRecord>): Partial<JobRecord> | undefined {
    if (job.status !== "running" || job.lease_owner !== owner) return undefined;
    if (job.cancel_requested_at === undefined) return fields;
    const now = new Date(this.#options.now());
    return { ...CANCELLED, completed_at: now, lease_expires_at: now };
  }

  async #write(
    uid: string,
    jobId: string,
    change: (job: JobRecord) => Partial<JobRecord> | undefined,
  ): Promise<JobRecord | undefined> {
    const written = await this.#database.transaction(async (transaction) => {
      const path = paths.job(uid, jobId);
      const job = (await transaction.get<JobRecord>(path))?.data;
      if (job === undefined) return undefined;
      const fields = change(job);
      if (fields === undefined) return undefined;
      const next = await settled(transaction, uid, job, {
        ...job,
        ...fields,
        updated_at: new Date(this.#options.now()),
      });
      transaction.set(path, next);
      return { next, ended: !isFinishedJob(job) && isFinishedJob(next) };
    });
    if (written?.ended === true) this.#options.onFinished?.(written.next);
    if (written !== undefined) await this.#options.afterWrite?.(uid, written.next);
    return written?.next;
  }
}
