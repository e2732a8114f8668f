import { onDocumentWritten } from "firebase-functions/v2/firestore";

/** Firebase mode: carries each job write onto its message and request documents. */
export function defineJobStatusTrigger(region: string) {
  return onDocumentWritten({ document: "users/{uid}/jobs/{jobId}", region }, async (event) => {
    const { handleJobWritten } = await import("../jobs/job-trigger-entry.ts");
    await handleJobWritten(event);
  });
}
