/**
 * The Cloud Functions of Atelier. Each is a few lines: options, and a lazy import of the module that does the
 * work, so a cold start loads only what the invoked function needs.
 */
import { onCall, onRequest } from "firebase-functions/v2/https";
import { onTaskDispatched } from "firebase-functions/v2/tasks";
import { onSchedule } from "firebase-functions/v2/scheduler";
import { defineInt, defineSecret } from "firebase-functions/params";
import type { ChatChunk } from "./callable/callable-sink.ts";
import { deployedSecretNames } from "./config/secret-names.ts";
import { WORKER_RETRY_BACKOFF, WORKER_TIMEOUT_SECONDS } from "./jobs/delivery-budget.ts";
import { DEFAULT_CLEANUP_SCHEDULE } from "./config/cleanup-schedule.ts";
import { defineJobStatusTrigger } from "./triggers/job-status-trigger.ts";
import { defineUploadTrigger } from "./triggers/upload-trigger.ts";
import { defineAccountDeletionTrigger } from "./triggers/account-deletion-trigger.ts";

const region = process.env.FUNCTIONS_REGION ?? "us-central1";

/**
 * Production binds provider keys from Secret Manager. The emulator takes them from the developer's environment
 * instead (no `.secret.local` file to leak, no Secret Manager lookups on every worker start).
 */
const providerSecrets =
  process.env.FUNCTIONS_EMULATOR === "true" ? [] : deployedSecretNames(process.env).map((name) => defineSecret(name));

export const api = onRequest(
  {
    region,
    invoker: "public",
    concurrency: 80,
    cpu: 1,
    memory: "512MiB",
    timeoutSeconds: 900,
    secrets: providerSecrets,
  },
  async (request, response) => {
    const { handleApiRequest } = await import("./entries/api-entry.ts");
    await handleApiRequest(request, response);
  },
);

/**
 * Chat for frontends on the Firebase SDK: `httpsCallable(functions, "chat").stream({message, ...})` yields the
 * same meta/sources/token/done/error sequence as `POST /chat/stream`, from the same service.
 */
export const chat = onCall<unknown, Promise<Record<string, unknown>>, ChatChunk>(
  {
    region,
    concurrency: 80,
    cpu: 1,
    memory: "512MiB",
    timeoutSeconds: 900,
    heartbeatSeconds: 15,
    // No `enforceAppCheck`: the runtime would refuse service API keys, which carry no App Check token. It still
    // verifies a token that is sent (`request.app`), and the caller authorization enforces App Check for users.
    secrets: providerSecrets,
  },
  async (request, response) => {
    const { handleChatCallable } = await import("./entries/chat-callable.ts");
    return handleChatCallable(request, response);
  },
);

/** Deploy-time settings of the task queues (the same names the runtime settings use). */
const globalTaskConcurrency = defineInt("RATE_LIMIT_GLOBAL_TASKS", { default: 15 });
const jobMaxAttempts = defineInt("JOB_MAX_ATTEMPTS", { default: 5 });

const workerOptions = {
  region,
  retryConfig: { maxAttempts: jobMaxAttempts, ...WORKER_RETRY_BACKOFF },
  rateLimits: { maxConcurrentDispatches: globalTaskConcurrency },
  timeoutSeconds: WORKER_TIMEOUT_SECONDS,
  memory: "1GiB" as const,
  secrets: providerSecrets,
};

/** Image generation and editing (Nano Banana), one job per task; Cloud Tasks retries what it throws. */
export const imageWorker = onTaskDispatched(workerOptions, async (request) => {
  const { handleJobTask } = await import("./entries/job-task-entry.ts");
  await handleJobTask("imageWorker", request);
});

/** Video generation (Veo): a start task, then delayed poll tasks until the operation ends. */
export const videoWorker = onTaskDispatched(workerOptions, async (request) => {
  const { handleJobTask } = await import("./entries/job-task-entry.ts");
  await handleJobTask("videoWorker", request);
});

/**
 * Firebase mode: carries each job write onto its message and request documents. Its definition module
 * (`firebase-functions/v2/firestore`, about 180 ms to import) is loaded only where it can run: in this function's
 * own instances (`FUNCTION_TARGET`) and when no target is set (deploy discovery, the emulator's function
 * loader). Every other instance starts without it. No top-level `await` here: the emulator and deploy discovery
 * `require()` this module.
 */
const target = process.env.FUNCTION_TARGET;
export const jobStatusTrigger =
  target === undefined || target === "" || target === "jobStatusTrigger"
    ? defineJobStatusTrigger({ region, secrets: providerSecrets })
    : undefined;

/**
 * Firebase mode: counts uploads made straight to Cloud Storage against the daily limits (loaded like the above). A
 * Storage trigger names its bucket: deploy discovery and the emulator give it in FIREBASE_CONFIG; without one
 * (a bare `require` of this module) there is nothing to watch.
 */
const uploadsBucket = process.env.FIREBASE_STORAGE_BUCKET ?? bucketOf(process.env.FIREBASE_CONFIG);
export const uploadCounter =
  uploadsBucket !== undefined && (target === undefined || target === "" || target === "uploadCounter")
    ? defineUploadTrigger({ region, bucket: uploadsBucket, secrets: providerSecrets })
    : undefined;

function bucketOf(firebaseConfig: string | undefined): string | undefined {
  try {
    const bucket: unknown = (JSON.parse(firebaseConfig ?? "{}") as { storageBucket?: unknown }).storageBucket;
    return typeof bucket === "string" && bucket !== "" ? bucket : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A user deleted in the console (or anywhere) takes all their data with them, as `DELETE /account` does. A
 * first-generation Auth trigger reads its project from GCLOUD_PROJECT, which deploy discovery and the emulator set.
 */
export const accountDeletion =
  (process.env.GCLOUD_PROJECT ?? "") !== "" && (target === undefined || target === "" || target === "accountDeletion")
    ? defineAccountDeletionTrigger({ region, secrets: providerSecrets })
    : undefined;

/** The maintenance sweep (the same one `POST /admin/cleanup` runs), on `CLEANUP_SCHEDULE` (UTC). */
export const cleanup = onSchedule(
  {
    region,
    // Read at deploy time (functions/.env is loaded then); the settings schema documents the default.
    schedule: process.env.CLEANUP_SCHEDULE ?? DEFAULT_CLEANUP_SCHEDULE,
    timeZone: "Etc/UTC",
    timeoutSeconds: 300,
    secrets: providerSecrets,
  },
  async () => {
    const { runScheduledCleanup } = await import("./entries/cleanup-entry.ts");
    await runScheduledCleanup();
  },
);
