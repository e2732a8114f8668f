import { createRequire } from "node:module";
import type { SecretParam } from "firebase-functions/params";

type StorageTriggers = typeof import("firebase-functions/v2/storage");

/** Loaded with `require`, like the Firestore trigger: the entry decides synchronously whether to load it. */
const requireTriggers = createRequire(import.meta.url);

/**
 * Firebase mode: counts each upload a client makes straight to Cloud Storage with the Firebase SDK against the
 * daily upload limits, and deletes it when over them (the Storage rules refuse most such uploads up front; this
 * is the backstop the rules cannot be, since they cannot count). Retried on failure: counting is idempotent per
 * object only in effect (an over-limit object is deleted either way), so a retry never lets one through.
 */
export function defineUploadTrigger(options: { region: string; bucket: string; secrets: SecretParam[] }) {
  const { onObjectFinalized } = requireTriggers("firebase-functions/v2/storage") as StorageTriggers;
  return onObjectFinalized({ retry: true, ...options }, async (event) => {
    const { handleUploadFinalized } = await import("../entries/upload-trigger-entry.ts");
    await handleUploadFinalized(event.data.name, event.data.size);
  });
}
