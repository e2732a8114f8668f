import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const entry = fileURLToPath(new URL("./index.ts", import.meta.url));

/**
 * Loads the functions entry the way the Functions emulator and deploy discovery do (`require()` in a fresh
 * process), under a given `FUNCTION_TARGET`, and reports its exports and whether the Firestore trigger module was
 * loaded.
 */
async function loadEntry(functionTarget: string | undefined) {
  const probe = `
    const entry = require(process.argv[1]);
    const exported = Object.keys(entry).filter((name) => entry[name] !== undefined).sort();
    const firestoreLoaded = Object.keys(require.cache).some((path) => path.includes("v2/providers/firestore"));
    console.log(JSON.stringify({ exported, firestoreLoaded }));
  `;
  const environment: NodeJS.ProcessEnv = { ...process.env, FUNCTIONS_EMULATOR: "true" };
  delete environment.FUNCTION_TARGET;
  if (functionTarget !== undefined) environment.FUNCTION_TARGET = functionTarget;
  const { stdout } = await run(process.execPath, ["--disable-warning=ExperimentalWarning", "-e", probe, entry], {
    env: environment,
  });
  return JSON.parse(stdout) as { exported: string[]; firestoreLoaded: boolean };
}

describe("the functions entry (functions/src/index.ts)", function () {
  this.timeout(30_000);

  it("loads with require(), as the emulator and deploy discovery load it, and exports every function", async () => {
    const loaded = await loadEntry(undefined);
    assert.deepEqual(loaded.exported, ["api", "chat", "cleanup", "imageWorker", "jobStatusTrigger", "videoWorker"]);
    assert.equal(loaded.firestoreLoaded, true);
  });

  it("defines the Firestore trigger in that trigger's own instances", async () => {
    const loaded = await loadEntry("jobStatusTrigger");
    assert.ok(loaded.exported.includes("jobStatusTrigger"));
    assert.equal(loaded.firestoreLoaded, true);
  });

  it("starts an api instance without loading the Firestore trigger module", async () => {
    const loaded = await loadEntry("api");
    assert.deepEqual(loaded.exported, ["api", "chat", "cleanup", "imageWorker", "videoWorker"]);
    assert.equal(loaded.firestoreLoaded, false);
  });
});
