/**
 * The client's runtime settings. Locally the stack writes `config.json` beside the page when it starts
 * (scripts/lib/local-stack.ts). On Firebase Hosting without one, the client falls back to Hosting's reserved
 * `/__/firebase/init.json` (the project's web app settings) and the `api` function's default URL.
 */
export interface AppConfig {
  readonly backendUrl: string;
  readonly firebase: { readonly apiKey: string; readonly projectId: string; readonly authDomain?: string };
  /** Set when signing in against the Auth emulator, e.g. `http://127.0.0.1:9099`. */
  readonly authEmulatorUrl?: string;
}

const FUNCTIONS_REGION = "us-central1";

export async function loadAppConfig(): Promise<AppConfig> {
  const response = await fetch("config.json", { cache: "no-store" });
  if (response.ok) return (await response.json()) as AppConfig;
  const hosting = await fetch("/__/firebase/init.json", { cache: "no-store" });
  if (!hosting.ok) throw new Error("The client has no config.json and Firebase Hosting offers no settings.");
  const firebase = (await hosting.json()) as AppConfig["firebase"];
  return { firebase, backendUrl: `https://${FUNCTIONS_REGION}-${firebase.projectId}.cloudfunctions.net/api` };
}
