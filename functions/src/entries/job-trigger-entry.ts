import type { Change, FirestoreEvent, DocumentSnapshot } from "firebase-functions/v2/firestore";
import { processServices } from "../runtime/process-services.ts";
import type { JobRecord } from "../store/records.ts";

/** Firestore values as services see them: Timestamps become Dates, recursively. */
function plain(value: unknown): unknown {
  if (typeof value === "object" && value !== null) {
    if ("toDate" in value && typeof value.toDate === "function") return (value.toDate as () => Date)();
    if (Array.isArray(value)) return value.map(plain);
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, plain(item)]));
  }
  return value;
}

/**
 * What the `jobStatusTrigger` Firestore trigger runs for every write to `users/{uid}/jobs/{jobId}` in firebase
 * mode: carry the job's state onto its message and request mapping (forward only, so duplicate or late events
 * are harmless). A deleted job has nothing to carry.
 */
export async function handleJobWritten(
  event: FirestoreEvent<Change<DocumentSnapshot> | undefined, { uid: string; jobId: string }>,
): Promise<void> {
  const after = event.data?.after.data();
  if (after === undefined) return;
  const services = await processServices();
  await services.propagate(event.params.uid, plain(after) as JobRecord);
}
