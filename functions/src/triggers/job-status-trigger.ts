import { createRequire } from "node:module";

type FirestoreTriggers = typeof import("firebase-functions/v2/firestore");

/**
 * Loaded with `require` rather than `import` so the entry can decide synchronously whether to load it: the
 * emulator and deploy discovery load the entry with `require()`, which refuses a module with top-level `await`.
 */
const requireTriggers = createRequire(import.meta.url);

/** Firebase mode: carries each job write onto its message and request documents. */
export function defineJobStatusTrigger(region: string) {
  const { onDocumentWritten } = requireTriggers("firebase-functions/v2/firestore") as FirestoreTriggers;
  return onDocumentWritten({ document: "users/{uid}/jobs/{jobId}", region }, async (event) => {
    const { handleJobWritten } = await import("../jobs/job-trigger-entry.ts");
    await handleJobWritten(event);
  });
}
