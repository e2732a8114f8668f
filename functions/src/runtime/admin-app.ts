import type { App } from "firebase-admin/app";
import type { RuntimeConfig } from "../config/runtime-config.ts";

/**
 * The firebase-admin app, made once per process. On Cloud Functions it uses the runtime's service account;
 * elsewhere `FIREBASE_CLIENT_EMAIL` + `FIREBASE_PRIVATE_KEY` give it explicit credentials. Under the emulators
 * the SDK finds them through `FIREBASE_AUTH_EMULATOR_HOST`, `CLOUD_TASKS_EMULATOR_HOST`, ...
 */
export async function getAdminApp(config: RuntimeConfig): Promise<App> {
  const { initializeApp, getApps, cert } = await import("firebase-admin/app");
  const name = `atelier-${config.projectId}`;
  const existing = getApps().find((app) => app.name === name);
  if (existing !== undefined) return existing;
  const { FIREBASE_CLIENT_EMAIL: clientEmail, FIREBASE_PRIVATE_KEY: privateKey } = config.settings;
  return initializeApp(
    {
      projectId: config.projectId,
      storageBucket: config.storageBucket,
      // Locally there is no metadata server to ask for the runtime's service account (task enqueues need one):
      // name a placeholder so the SDK does not try, and wait, on every enqueue.
      ...(config.production ? {} : { serviceAccountId: `atelier-local@${config.projectId}.iam.gserviceaccount.com` }),
      ...(clientEmail !== undefined && privateKey !== undefined
        ? {
            credential: cert({
              projectId: config.projectId,
              clientEmail,
              // Keys pasted into env files usually carry literal "\n" sequences.
              privateKey: privateKey.replaceAll("\\n", "\n"),
            }),
          }
        : {}),
    },
    name,
  );
}
