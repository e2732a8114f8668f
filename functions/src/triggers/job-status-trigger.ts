import { createRequire } from "node:module";
import type { SecretParam } from "firebase-functions/params";

type FirestoreTriggers = typeof import("firebase-functions/v2/firestore");

/**
 * Loaded with `require` rather than `import` so the entry can decide synchronously whether to load it: the
 * emulator and deploy discovery load the entry with `require()`, which refuses a module with top-level `await`.
 */
const requireTriggers = createRequire(import.meta.url);

/**
 * Firebase mode: carries each job write onto its message and request documents. It binds the same secrets as
 * every function: its services load the production settings, which require the provider keys. A failed run is
 * retried (`retry: true`) rather than dropped, which would leave the message `pending` until a sweep: the
 * propagation only ever moves documents forward, so running it again, late or twice, changes nothing more.
 */
export function defineJobStatusTrigger(options: { region: string; secrets: SecretParam[] }) {
  const { onDocumentWritten } = requireTriggers("firebase-functions/v2/firestore") as FirestoreTriggers;
  return onDocumentWritten({ document: "users/{uid}/jobs/{jobId}", retry: true, ...options }, async (event) => {
    const { handleJobWritten } = await import("../entries/job-trigger-entry.ts");
    await handleJobWritten(event);
  });
}
