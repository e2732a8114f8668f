import type { Request } from "firebase-functions/v2/tasks";
import { z } from "zod";
import { processServices } from "../runtime/process-services.ts";
import type { QueueName } from "../queue/task-queue.ts";

const taskSchema = z.object({
  uid: z.string().min(1),
  job_id: z.string().min(1),
  phase: z.enum(["start", "poll"]),
  poll: z.number().int().min(1).optional(),
  trace: z.record(z.string().max(64), z.string().max(512)).optional(),
});

/**
 * What the `imageWorker` and `videoWorker` task functions run. A malformed task is logged and dropped (retrying
 * it cannot help); a `RetryLaterError` propagates, so the function fails and Cloud Tasks delivers again.
 */
export async function handleJobTask(queue: QueueName, request: Request<unknown>): Promise<void> {
  const services = await processServices();
  const parsed = taskSchema.safeParse(request.data);
  if (!parsed.success) {
    services.logger.error("malformed job task dropped", { queue, task_id: request.id });
    return;
  }
  const { poll, trace, ...task } = parsed.data;
  try {
    await services.jobWorker.handle(
      queue,
      { ...task, ...(poll === undefined ? {} : { poll }), ...(trace === undefined ? {} : { trace }) },
      { retryCount: request.retryCount, maxAttempts: services.config.settings.JOB_MAX_ATTEMPTS },
    );
  } finally {
    // A task instance may get no CPU once its request ends: its spans leave now, not at the next batch.
    await services.telemetry.flush();
  }
}
