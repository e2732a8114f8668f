import { createRequire } from "node:module";
import type { SecretParam } from "firebase-functions/params";

type FunctionsV1 = typeof import("firebase-functions/v1");

/** Loaded with `require`, like the other triggers: only the instances that run it pay for the module. */
const requireTriggers = createRequire(import.meta.url);

/**
 * A user deleted anywhere (the Firebase console, the Admin SDK, another app) leaves nothing behind: this Auth trigger
 * runs the same deletion as `DELETE /account`. (Auth deletion triggers exist only as first-generation functions.)
 * Retried on failure: every step of the deletion can run again.
 */
export function defineAccountDeletionTrigger(options: { region: string; secrets: SecretParam[] }) {
  const functions = requireTriggers("firebase-functions/v1") as FunctionsV1;
  return functions
    .region(options.region)
    .runWith({ secrets: options.secrets, failurePolicy: true })
    .auth.user()
    .onDelete(async (user) => {
      const { handleAccountDeleted } = await import("../entries/account-trigger-entry.ts");
      await handleAccountDeleted(user.uid);
    });
}
