/**
 * `npm run emulators`: the full Firebase Emulator Suite (Auth, Functions, Cloud Tasks, Firestore, Storage, and
 * Hosting serving the web client) for machines with Java 21. With the Firestore emulator running, the functions run in firebase mode against it,
 * the closest local match to production. Machines without Java use `npm start` (embedded mode).
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { buildFunctions, buildLocalWebClient, configuredPorts, DEFAULT_PROJECT_ID } from "./lib/local-stack.ts";
import { WEB_DIST } from "../web/build.ts";
import { spawnEmulators } from "../functions/src/test-support/firebase-emulators.ts";
import { repositoryRoot } from "./lib/paths.ts";

const java = spawnSync("java", ["-version"], { encoding: "utf8" });
const version = /version "(\d+)/.exec(`${java.stderr}${java.stdout}`)?.[1];
if (java.error !== undefined || version === undefined || Number(version) < 21) {
  console.error(
    `The Firestore and Storage emulators need Java 21 or newer (found: ${version ?? "none"}).\n` +
      "Install a JDK 21, or use `npm start` for embedded mode, which needs only Node.",
  );
  process.exit(1);
}

await buildFunctions();
const ports = configuredPorts();
const backendUrl = `http://127.0.0.1:${String(ports.functions)}/${DEFAULT_PROJECT_ID}/us-central1/api`;
const webUrl = `http://127.0.0.1:${String(ports.hosting)}`;
await buildLocalWebClient(WEB_DIST, {
  backendUrl,
  projectId: DEFAULT_PROJECT_ID,
  authEmulatorHost: `127.0.0.1:${String(ports.auth)}`,
});
const emulators = spawnEmulators({
  only: ["auth", "functions", "tasks", "firestore", "storage", "hosting"],
  projectId: DEFAULT_PROJECT_ID,
  configFile: join(repositoryRoot, "firebase.json"),
  echo: true,
  environment: {
    ...process.env,
    DATA_BACKEND: "firebase",
    PUBLIC_API_URL: backendUrl,
    // The client calls the api directly (Hosting would buffer the streams), so the api must allow its origin.
    FRONTEND_ORIGIN: process.env.FRONTEND_ORIGIN ?? webUrl,
    CORS_ALLOWED_ORIGINS: [process.env.CORS_ALLOWED_ORIGINS, webUrl].filter(Boolean).join(","),
  },
});
console.log(`BACKEND_URL=${backendUrl}\nWEB_URL=${webUrl}`);
if (process.env.SIMULATED_PROVIDERS === undefined) {
  console.log(
    "Firebase mode: a provider without its key is not configured (503). SIMULATED_PROVIDERS=on npm run emulators simulates them.",
  );
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => void emulators.stop().then(() => process.exit(0)));
}
process.exit((await emulators.exited) ?? 1);
