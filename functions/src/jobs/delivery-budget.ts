/**
 * When a job is abandoned. Cloud Tasks delivers a task at most `maxAttempts` times, each attempt running at most
 * the worker's timeout and the next one starting at most the longest backoff later. A delivery that gets the
 * lease writes the job (its claim); one that finds the lease held writes nothing and is retried, and the last
 * one schedules a takeover task due when the lease expires. So once a job's `abandon_at` has passed with no write
 * since, no delivery can still move it: its lease expired beyond the retry budget, and the sweep may end it.
 *
 * The ledger sets `abandon_at` whenever the next delivery changes: at submission (a new task), at each claim (the
 * attempts that task has left), when a worker gives a job back for a retry, when it schedules a video poll (a
 * new task, due at the poll's time), and when it schedules a takeover (never earlier than it was).
 */

/** The worker functions' deploy settings (`functions/src/index.ts` deploys these; the deadline reasons with them). */
export const WORKER_TIMEOUT_SECONDS = 540;
export const WORKER_RETRY_BACKOFF = { minBackoffSeconds: 10, maxBackoffSeconds: 300, maxDoublings: 4 } as const;

/** The longest one delivery can take, counted from when it is due: the longest backoff, then a full attempt. */
const ATTEMPT_MS = (WORKER_RETRY_BACKOFF.maxBackoffSeconds + WORKER_TIMEOUT_SECONDS) * 1000;

export interface DeliveryBudget {
  /** Deliveries of one task (`JOB_MAX_ATTEMPTS`, Cloud Tasks' `maxAttempts`). */
  readonly maxAttempts: number;
  /** Allowance for a task waiting to be dispatched behind others (`JOB_DISPATCH_GRACE_SECONDS`). */
  readonly dispatchGraceMs: number;
}

/** The budget of the deploy settings of those names (the composition root passes its settings). */
export function deliveryBudget(settings: {
  readonly JOB_MAX_ATTEMPTS: number;
  readonly JOB_DISPATCH_GRACE_SECONDS: number;
}): DeliveryBudget {
  return { maxAttempts: settings.JOB_MAX_ATTEMPTS, dispatchGraceMs: settings.JOB_DISPATCH_GRACE_SECONDS * 1000 };
}

export interface NextDelivery {
  /** When the next delivery is due: now for a retry or a new task, the schedule time of a video poll. */
  readonly at: Date;
  /** How many deliveries of that task may still come; a new task has all of them. */
  readonly attemptsLeft?: number;
}

/** The instant after which, with no write since, no delivery of the job's task can still come. */
export function abandonDeadline(next: NextDelivery, budget: DeliveryBudget): Date {
  const attempts = Math.max(0, next.attemptsLeft ?? budget.maxAttempts);
  return new Date(next.at.getTime() + attempts * ATTEMPT_MS + budget.dispatchGraceMs);
}

/** The longest a healthy job's task can go without writing: a whole new task's budget. */
export function longestSilenceMs(budget: DeliveryBudget): number {
  return budget.maxAttempts * ATTEMPT_MS + budget.dispatchGraceMs;
}
