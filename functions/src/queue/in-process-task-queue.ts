import { setTimeout as sleep } from "node:timers/promises";
import type { EnqueueOptions, JobTask, QueueName, TaskDelivery, TaskQueue } from "./task-queue.ts";

type TaskHandler = (task: JobTask, delivery: TaskDelivery) => Promise<void>;

/**
 * A queue that runs tasks in this process, for the single-process server (tests of the HTTP API, benchmarks).
 * It keeps Cloud Tasks' contract: at-least-once delivery, retries with backoff while the handler throws (up to
 * `maxAttempts`), delays, and duplicate task ids refused. The worker code it calls is the production code.
 */
export class InProcessTaskQueue implements TaskQueue {
  readonly #handlers = new Map<QueueName, TaskHandler>();
  readonly #seen = new Set<string>();
  readonly #running = new Set<Promise<void>>();
  readonly #maxAttempts: number;
  readonly #backoffMs: number;
  #closed = false;

  constructor(options: { maxAttempts: number; backoffMs?: number }) {
    this.#maxAttempts = options.maxAttempts;
    this.#backoffMs = options.backoffMs ?? 50;
  }

  register(queue: QueueName, handler: TaskHandler): void {
    this.#handlers.set(queue, handler);
  }

  enqueue(queue: QueueName, task: JobTask, options: EnqueueOptions): Promise<"enqueued" | "duplicate"> {
    const key = `${queue}/${options.id}`;
    if (this.#seen.has(key)) return Promise.resolve("duplicate");
    this.#seen.add(key);
    const run = (async () => {
      await this.#pause((options.delaySeconds ?? 0) * 1000);
      for (let retryCount = 0; retryCount < this.#maxAttempts && !this.#closed; retryCount++) {
        const handler = this.#handlers.get(queue);
        if (handler === undefined) return;
        try {
          await handler(task, { retryCount, maxAttempts: this.#maxAttempts });
          return;
        } catch {
          await this.#pause(this.#backoffMs * 2 ** retryCount);
        }
      }
    })();
    this.#running.add(run);
    void run.finally(() => this.#running.delete(run));
    return Promise.resolve("enqueued");
  }

  /** Resolves when every task enqueued so far (and those they enqueue) has finished. */
  async drain(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running]);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.drain();
  }

  /** Waits without holding the process open (no timer at all for a zero wait). */
  #pause(milliseconds: number): Promise<void> {
    return milliseconds <= 0 ? Promise.resolve() : sleep(milliseconds, undefined, { ref: false });
  }
}
