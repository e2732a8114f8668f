import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { loadRuntimeConfig } from "./config/runtime-config.ts";
import { WORKER_RETRY_BACKOFF, WORKER_TIMEOUT_SECONDS } from "./jobs/delivery-budget.ts";

const run = promisify(execFile);
const entry = fileURLToPath(new URL("./index.ts", import.meta.url));

interface LoadedEntry {
  readonly exported: string[];
  readonly firestoreLoaded: boolean;
  /** Whether sharp or the ffmpeg/ffprobe binaries' packages were loaded (only media work needs them). */
  readonly mediaLoaded: boolean;
  /** The secrets each exported function binds, as deploy discovery reads them from its endpoint. */
  readonly secrets: Record<string, string[]>;
  /** Each exported function's timeout and, for task queue functions, its retry settings. */
  readonly delivery: Record<
    string,
    { timeoutSeconds?: number; retryConfig?: Record<string, unknown>; retry?: boolean; schedule?: string }
  >;
}

/**
 * Loads the functions entry the way the Functions emulator and deploy discovery do (`require()` in a fresh
 * process), under a given `FUNCTION_TARGET` (in the emulator unless `deploy` is set), and reports its exports,
 * their secrets and whether the Firestore trigger module was loaded.
 */
async function loadEntry(
  functionTarget: string | undefined,
  options: { deploy?: boolean; environment?: Record<string, string> } = {},
): Promise<LoadedEntry> {
  const probe = `
    const entry = require(process.argv[1]);
    const exported = Object.keys(entry).filter((name) => entry[name] !== undefined).sort();
    const firestoreLoaded = Object.keys(require.cache).some((path) => path.includes("v2/providers/firestore"));
    const mediaLoaded = Object.keys(require.cache).some((path) =>
      /node_modules[\\/](sharp|@img|@ffmpeg-installer|@ffprobe-installer)[\\/]/.test(path),
    );
    const secrets = Object.fromEntries(
      exported.map((name) => [
        name,
        (entry[name].__endpoint.secretEnvironmentVariables ?? []).map((secret) => secret.key).sort(),
      ]),
    );
    const delivery = Object.fromEntries(
      exported.map((name) => {
        const endpoint = entry[name].__endpoint;
        return [name, {
          timeoutSeconds: endpoint.timeoutSeconds,
          retryConfig: endpoint.taskQueueTrigger?.retryConfig,
          retry: endpoint.eventTrigger?.retry,
          schedule: endpoint.scheduleTrigger?.schedule,
        }];
      }),
    );
    console.log(JSON.stringify({ exported, firestoreLoaded, mediaLoaded, secrets, delivery }));
  `;
  // As deploy discovery and the emulator give it: the project and its bucket.
  const firebaseConfig = JSON.stringify({ projectId: "demo-atelier", storageBucket: "demo-atelier.appspot.com" });
  const environment: NodeJS.ProcessEnv = {
    ...process.env,
    FIREBASE_CONFIG: firebaseConfig,
    GCLOUD_PROJECT: "demo-atelier",
    ...options.environment,
  };
  delete environment.FUNCTION_TARGET;
  delete environment.FUNCTIONS_EMULATOR;
  if (options.deploy !== true) environment.FUNCTIONS_EMULATOR = "true";
  if (functionTarget !== undefined) environment.FUNCTION_TARGET = functionTarget;
  const { stdout } = await run(process.execPath, ["--disable-warning=ExperimentalWarning", "-e", probe, entry], {
    env: environment,
  });
  return JSON.parse(stdout) as LoadedEntry;
}

describe("the functions entry (functions/src/index.ts)", function () {
  this.timeout(30_000);

  it("loads with require(), as the emulator and deploy discovery load it, and exports every function", async () => {
    const loaded = await loadEntry(undefined);
    assert.deepEqual(loaded.exported, [
      "accountDeletion",
      "api",
      "chat",
      "cleanup",
      "imageWorker",
      "jobStatusTrigger",
      "uploadCounter",
      "videoWorker",
    ]);
    assert.equal(loaded.firestoreLoaded, true);
  });

  it("defines the Firestore trigger in that trigger's own instances", async () => {
    const loaded = await loadEntry("jobStatusTrigger");
    assert.ok(loaded.exported.includes("jobStatusTrigger"));
    assert.equal(loaded.firestoreLoaded, true);
  });

  it("binds the provider keys from Secret Manager on every function when deployed, since each loads the production settings", async () => {
    const loaded = await loadEntry(undefined, { deploy: true });
    const everyKey = ["GEMINI_API_KEY", "NANO_BANANA_API_KEY", "TAVILY_API_KEY", "VEO_API_KEY"];
    for (const name of loaded.exported) assert.deepEqual(loaded.secrets[name], everyKey, name);
  });

  it("deploys without the Tavily secret when grounding is switched off (TAVILY_ENABLED=false)", async () => {
    const loaded = await loadEntry(undefined, { deploy: true, environment: { TAVILY_ENABLED: "false" } });
    for (const name of loaded.exported) {
      assert.deepEqual(loaded.secrets[name], ["GEMINI_API_KEY", "NANO_BANANA_API_KEY", "VEO_API_KEY"], name);
    }
  });

  it("binds the OpenAI-compatible server's key only when a deployment names that server", async () => {
    const loaded = await loadEntry(undefined, {
      deploy: true,
      environment: { OPENAI_COMPATIBLE_BASE_URL: "https://openrouter.ai/api/v1" },
    });
    for (const name of loaded.exported) assert.ok(loaded.secrets[name]?.includes("OPENAI_COMPATIBLE_API_KEY"), name);
  });

  it("binds the API-key hash secret only when a deployment turns service API keys on", async () => {
    const off = await loadEntry(undefined, { deploy: true });
    assert.ok(!(off.secrets.api ?? []).includes("API_KEY_HASH_SECRET"));
    const on = await loadEntry(undefined, { deploy: true, environment: { API_KEYS_ENABLED: "true" } });
    for (const name of on.exported) assert.ok(on.secrets[name]?.includes("API_KEY_HASH_SECRET"), name);
  });

  it("binds the secrets the operator's downstream tools send (TOOL_SECRETS) when deployed", async () => {
    const loaded = await loadEntry(undefined, { deploy: true, environment: { TOOL_SECRETS: "ORDERS_TOKEN, CRM_KEY" } });
    for (const name of loaded.exported) {
      assert.ok(loaded.secrets[name]?.includes("ORDERS_TOKEN") && loaded.secrets[name].includes("CRM_KEY"), name);
    }
  });

  it("reads TAVILY_ENABLED at deploy time with the same words as the settings schema (OFF, 0, no, ...)", async () => {
    for (const value of ["OFF", "0"]) {
      const loaded = await loadEntry(undefined, { deploy: true, environment: { TAVILY_ENABLED: value } });
      assert.ok(!(loaded.secrets.api ?? []).includes("TAVILY_API_KEY"), value);
      assert.equal(loadRuntimeConfig({ TAVILY_ENABLED: value }).settings.TAVILY_ENABLED, false, value);
    }
  });

  it("deploys the workers with the timeout and backoff the abandonment deadline reasons with", async () => {
    const loaded = await loadEntry(undefined, { deploy: true });
    for (const name of ["imageWorker", "videoWorker"]) {
      const { timeoutSeconds, retryConfig } = loaded.delivery[name] ?? {};
      assert.equal(timeoutSeconds, WORKER_TIMEOUT_SECONDS, name);
      for (const [setting, value] of Object.entries(WORKER_RETRY_BACKOFF)) {
        assert.equal(retryConfig?.[setting], value, `${name} ${setting}`);
      }
    }
  });

  it("retries a failed run of the job status trigger, and sweeps every 15 minutes by default", async () => {
    const loaded = await loadEntry(undefined, { deploy: true });
    assert.equal(loaded.delivery.jobStatusTrigger?.retry, true);
    assert.equal(loaded.delivery.cleanup?.schedule, "every 15 minutes");
  });

  it("binds no secrets in the emulator, which takes provider keys from the developer's environment", async () => {
    const loaded = await loadEntry(undefined);
    for (const name of loaded.exported) assert.deepEqual(loaded.secrets[name], [], name);
  });

  it("starts an api instance without loading the Firestore trigger module", async () => {
    const loaded = await loadEntry("api");
    assert.deepEqual(loaded.exported, ["api", "chat", "cleanup", "imageWorker", "videoWorker"]);
    assert.equal(loaded.firestoreLoaded, false);
  });

  it("loads neither sharp nor ffmpeg at import, in any instance: only the media work that needs them does", async () => {
    for (const target of [undefined, "api", "imageWorker", "videoWorker", "uploadCounter"]) {
      const loaded = await loadEntry(target);
      assert.equal(loaded.mediaLoaded, false, String(target));
    }
  });
});
