/**
 * `npm run emulators`: the full Firebase Emulator Suite (Auth, Functions, Cloud Tasks, Firestore, Storage) for
 * machines with Java 21. With the Firestore emulator running, the functions run in firebase mode against it,
 * the closest local match to production. Machines without Java use `npm start` (embedded mode).
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { buildFunctions, configuredPorts, DEFAULT_PROJECT_ID } from "./lib/local-stack.ts";
import { spawnEmulators } from "./lib/firebase-emulators.ts";
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
const emulators = spawnEmulators({
  only: ["auth", "functions", "tasks", "firestore", "storage"],
  projectId: DEFAULT_PROJECT_ID,
  configFile: join(repositoryRoot, "firebase.json"),
  echo: true,
  environment: { ...process.env, DATA_BACKEND: "firebase", PUBLIC_API_URL: backendUrl },
});
console.log(`BACKEND_URL=${backendUrl}`);
process.on("SIGINT", () => void emulators.stop().then(() => process.exit(0)));
process.exit((await emulators.exited) ?? 1);
