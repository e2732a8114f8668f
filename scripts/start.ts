/**
 * `npm start`: the whole backend locally, offline, in embedded mode. Builds the functions and the web client, starts
 * the Auth, Functions, Cloud Tasks and Hosting emulators, waits until the API and the client answer, then prints
 * `BACKEND_URL=...` and `WEB_URL=...`.
 * Data (SQLite database, media, Auth emulator users) persists in `.data/`. Ctrl-C stops everything.
 */
import { join } from "node:path";
import { startLocalStack, type LocalStack } from "./lib/local-stack.ts";
import { repositoryRoot } from "./lib/paths.ts";

// Ctrl-C works from the first moment: while starting it aborts the start-up, afterwards it stops the stack.
const starting = new AbortController();
const state: { stopping: boolean; stack?: LocalStack } = { stopping: false };
const shutdown = (signal: string) => {
  if (state.stopping) return;
  state.stopping = true;
  if (state.stack === undefined) {
    console.log(`\n${signal}: stopping the emulators before they finished starting...`);
    starting.abort();
    return;
  }
  console.log(`\n${signal}: stopping the emulators (saving Auth emulator users to .data/emulators)...`);
  void state.stack.stop().then(() => process.exit(0));
};
process.on("SIGINT", () => shutdown("SIGINT"));
process.on("SIGTERM", () => shutdown("SIGTERM"));

const stack = await startLocalStack({
  dataDirectory: join(repositoryRoot, ".data"),
  echo: process.argv.includes("--verbose"),
  persistAuth: true,
  signal: starting.signal,
}).catch((error: unknown) => {
  if (starting.signal.aborted) process.exit(130);
  throw error;
});
state.stack = stack;

console.log(`
Atelier is running in embedded mode (data in .data/, Auth emulator at ${stack.authEmulatorHost}).

BACKEND_URL=${stack.backendUrl}
WEB_URL=${stack.webUrl}

Open WEB_URL in a browser for the web client, or try the API:
  export BACKEND_URL=${stack.backendUrl}
  export FIREBASE_ID_TOKEN=$(npm run -s token)      # a test user's ID token from the Auth emulator
  curl -s $BACKEND_URL/health
  curl -s -H "Authorization: Bearer $FIREBASE_ID_TOKEN" $BACKEND_URL/account

Function logs: npm start -- --verbose. Stop: Ctrl-C.
`);

const code = await stack.emulators.exited;
if (!state.stopping) {
  console.error(`The emulators exited unexpectedly (code ${String(code)}):\n${stack.emulators.output().slice(-4000)}`);
  process.exit(1);
}
