import type { App } from "firebase-admin/app";
import type { Functions } from "firebase-admin/functions";
import type { EnqueueOptions, JobTask, QueueName, TaskQueue } from "./task-queue.ts";

/**
 * Cloud Tasks through firebase-admin (`getFunctions().taskQueue(...)`), which also targets the Cloud Tasks
 * emulator when `CLOUD_TASKS_EMULATOR_HOST` is set. The queue name is region-qualified (a bare name means
 * us-central1). Every task gets a dispatch deadline (the emulator's default is 60 s) and an id derived from
 * its job, so a repeated enqueue is recognised as a duplicate.
 */
export class CloudTaskQueue implements TaskQueue {
  readonly #functions: Promise<Functions>;
  readonly #region: string;
  readonly #dispatchDeadlineSeconds: number;

  constructor(app: App, options: { region: string; dispatchDeadlineSeconds: number }) {
    this.#functions = import("firebase-admin/functions").then(({ getFunctions }) => getFunctions(app));
    this.#region = options.region;
    this.#dispatchDeadlineSeconds = options.dispatchDeadlineSeconds;
  }

  async enqueue(queue: QueueName, task: JobTask, options: EnqueueOptions): Promise<"enqueued" | "duplicate"> {
    const functions = await this.#functions;
    try {
      await functions.taskQueue(`locations/${this.#region}/functions/${queue}`).enqueue(task, {
        id: options.id,
        dispatchDeadlineSeconds: this.#dispatchDeadlineSeconds,
        ...(options.delaySeconds === undefined || options.delaySeconds <= 0
          ? {}
          : { scheduleDelaySeconds: Math.ceil(options.delaySeconds) }),
      });
      return "enqueued";
    } catch (error) {
      if (
        typeof error === "object" &&
        error !== null &&
        "code" in error &&
        error.code === "functions/task-already-exists"
      ) {
        return "duplicate";
      }
      throw error;
    }
  }
}
