/**
 * The queue port: hand a job task to a worker function, at least once. Adapters: Cloud Tasks through
 * firebase-admin's task-queue API (production and the Cloud Tasks emulator), and an in-process queue for the
 * single-process server that tests and benchmarks run.
 */
export type QueueName = "imageWorker" | "videoWorker";

/** What a worker is asked to do. `poll` tasks carry the number of the poll they are, for idempotency. */
export interface JobTask {
  readonly uid: string;
  readonly job_id: string;
  readonly phase: "start" | "poll";
  readonly poll?: number;
  /** The trace of the request that queued it (W3C `traceparent`), so the worker's spans join that trace. */
  readonly trace?: Readonly<Record<string, string>>;
}

export interface EnqueueOptions {
  /** The task's id: a second enqueue with the same id is a duplicate and does nothing. */
  readonly id: string;
  readonly delaySeconds?: number;
}

export interface TaskQueue {
  enqueue(queue: QueueName, task: JobTask, options: EnqueueOptions): Promise<"enqueued" | "duplicate">;
}

/** How a worker learns which delivery this is (Cloud Tasks' retry count and the queue's attempt limit). */
export interface TaskDelivery {
  readonly retryCount: number;
  readonly maxAttempts: number;
}

/** Task ids allow letters, digits, hyphens and underscores only. */
export function taskId(...parts: readonly string[]): string {
  return parts
    .join("-")
    .replace(/[^A-Za-z0-9_-]/g, "_")
    .slice(0, 500);
}
