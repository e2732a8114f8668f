import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { buildWebClient, WEB_CONFIG_FILE, WEB_DIST } from "../../web/build.ts";
import { AuthEmulatorClient } from "../../functions/src/test-support/auth-emulator-client.ts";
import {
  spawnEmulators,
  waitUntil,
  type EmulatorProcess,
} from "../../functions/src/test-support/firebase-emulators.ts";
import { freePort } from "../../functions/src/test-support/free-port.ts";
import { repositoryRoot } from "./paths.ts";

/**
 * The local stack in embedded mode: the real firebase-tools emulators for Auth, Functions and Cloud Tasks
 * (pure Node, no Java), with the functions keeping their data in SQLite and files under `dataDirectory`, and the
 * Hosting emulator serving the web client. `npm start` runs it on the ports in firebase.json; the end-to-end
 * tests run a second one on free ports.
 */

export interface Ports {
  readonly auth: number;
  readonly functions: number;
  readonly tasks: number;
  /** The Hosting emulator's (the web client); a free port when left out. */
  readonly hosting?: number;
  readonly hub: number;
  readonly logging: number;
}

export interface LocalStackOptions {
  readonly dataDirectory: string;
  readonly projectId?: string;
  /** Ports other than firebase.json's, e.g. so tests can run beside `npm start`. */
  readonly ports?: Ports;
  /** Extra settings for the functions (they also inherit this process's environment: provider keys, ...). */
  readonly environment?: Readonly<Record<string, string>>;
  /** Show emulator output on this terminal. */
  readonly echo?: boolean;
  /** Keep Auth emulator users across restarts, under `<dataDirectory>/emulators`. */
  readonly persistAuth?: boolean;
  /** Aborting it while the stack is starting (Ctrl-C) stops whatever has started and rejects. */
  readonly signal?: AbortSignal;
}

export interface LocalStack {
  readonly backendUrl: string;
  /** The web client, served by the Hosting emulator. */
  readonly webUrl: string;
  readonly authEmulatorHost: string;
  readonly projectId: string;
  /** Where the functions keep their data (what operator tools need to reach the same store). */
  readonly dataDirectory: string;
  readonly auth: AuthEmulatorClient;
  readonly emulators: EmulatorProcess;
  stop(): Promise<void>;
}

export const DEFAULT_PROJECT_ID = "demo-atelier";
const REGION = "us-central1";
/** Emulator variables that must come from the stack being started, never from the caller's shell. */
const EMULATOR_VARIABLES = [
  "FIREBASE_AUTH_EMULATOR_HOST",
  "FIRESTORE_EMULATOR_HOST",
  "STORAGE_EMULATOR_HOST",
  "CLOUD_TASKS_EMULATOR_HOST",
  "FIREBASE_EMULATOR_HUB",
];

interface FirebaseJson {
  emulators: Record<string, { port?: number } | boolean | undefined>;
  hosting: { public: string };
}

/** What the web client reads at start-up (web/src/app-config.ts): where the API and the Auth emulator are. */
export interface WebClientConfig {
  readonly backendUrl: string;
  readonly firebase: { readonly apiKey: string; readonly projectId: string };
  readonly authEmulatorUrl: string;
}

export function configuredPorts(): Required<Ports> {
  const config = JSON.parse(readFileSync(join(repositoryRoot, "firebase.json"), "utf8")) as FirebaseJson;
  const port = (name: string) => {
    const entry = config.emulators[name];
    if (typeof entry !== "object" || entry.port === undefined) throw new Error(`firebase.json has no ${name} port`);
    return entry.port;
  };
  return {
    auth: port("auth"),
    functions: port("functions"),
    tasks: port("tasks"),
    hosting: port("hosting"),
    hub: port("hub"),
    logging: port("logging"),
  };
}

/**
 * Builds the web client into `webDirectory` with a `config.json` pointing it at a local backend and Auth
 * emulator (the Hosting emulator then serves the folder).
 */
export async function buildLocalWebClient(
  webDirectory: string,
  local: { readonly backendUrl: string; readonly projectId: string; readonly authEmulatorHost: string },
): Promise<void> {
  await buildWebClient(webDirectory);
  const webConfig: WebClientConfig = {
    backendUrl: local.backendUrl,
    // The Auth emulator accepts any API key; the SDK only needs one to be present.
    firebase: { apiKey: "local-emulator-api-key", projectId: local.projectId },
    authEmulatorUrl: `http://${local.authEmulatorHost}`,
  };
  writeFileSync(join(webDirectory, WEB_CONFIG_FILE), `${JSON.stringify(webConfig, null, 2)}\n`);
}

/** Compiles the functions (TypeScript → functions/lib), as deploy's predeploy step does. */
export function buildFunctions(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(repositoryRoot, "node_modules", ".bin", "tsc"), ["-p", "functions"], {
      cwd: repositoryRoot,
      stdio: "inherit",
    });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`tsc exited with ${String(code)}`))));
  });
}

/**
 * Writes a firebase.json with other ports beside the real one (functions paths stay relative to the repo), and
 * Hosting serving `webDirectory`, so this stack's client config does not replace the one `npm start` serves.
 */
function configWithPorts(ports: Required<Ports>, webDirectory: string): string {
  const config = JSON.parse(readFileSync(join(repositoryRoot, "firebase.json"), "utf8")) as FirebaseJson;
  for (const [name, port] of Object.entries(ports)) {
    const entry = config.emulators[name];
    config.emulators[name] = { ...(typeof entry === "object" ? entry : {}), port };
  }
  // Relative to the project folder: the Hosting emulator serves nothing from an absolute path.
  config.hosting.public = relative(repositoryRoot, webDirectory);
  const file = join(repositoryRoot, `firebase.${String(ports.functions)}.local.json`);
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const projectId = options.projectId ?? DEFAULT_PROJECT_ID;
  const requestedPorts = options.ports ?? configuredPorts();
  const ports = { ...requestedPorts, hosting: requestedPorts.hosting ?? (await freePort()) };
  const backendUrl = `http://127.0.0.1:${String(ports.functions)}/${projectId}/${REGION}/api`;
  const authEmulatorHost = `127.0.0.1:${String(ports.auth)}`;
  const webUrl = `http://127.0.0.1:${String(ports.hosting)}`;
  mkdirSync(options.dataDirectory, { recursive: true });
  await buildFunctions();
  options.signal?.throwIfAborted();
  const webDirectory = options.ports === undefined ? WEB_DIST : join(options.dataDirectory, "web");
  await buildLocalWebClient(webDirectory, { backendUrl, projectId, authEmulatorHost });
  options.signal?.throwIfAborted();

  const generatedConfig = options.ports === undefined ? undefined : configWithPorts(ports, webDirectory);
  const exportDirectory = join(options.dataDirectory, "emulators");
  const environment: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !EMULATOR_VARIABLES.includes(name)),
  );
  const emulators = spawnEmulators({
    only: ["auth", "functions", "tasks", "hosting"],
    projectId,
    configFile: generatedConfig ?? join(repositoryRoot, "firebase.json"),
    ...(options.persistAuth === true
      ? {
          exportDirectory,
          ...(existsSync(join(exportDirectory, "firebase-export-metadata.json"))
            ? { importDirectory: exportDirectory }
            : {}),
        }
      : {}),
    echo: options.echo ?? false,
    environment: {
      ...environment,
      DATA_BACKEND: "embedded",
      EMBEDDED_DATA_DIR: options.dataDirectory,
      PUBLIC_API_URL: backendUrl,
      FUNCTIONS_REGION: REGION,
      // The client calls the api directly (Hosting would buffer the streams), so the api must allow its origins.
      FRONTEND_ORIGIN: environment.FRONTEND_ORIGIN ?? webUrl,
      CORS_ALLOWED_ORIGINS: [environment.CORS_ALLOWED_ORIGINS, webUrl, `http://localhost:${String(ports.hosting)}`]
        .filter(Boolean)
        .join(","),
      NODE_OPTIONS: [environment.NODE_OPTIONS, "--disable-warning=ExperimentalWarning"].filter(Boolean).join(" "),
      ...options.environment,
    },
  });
  const stop = async () => {
    await emulators.stop();
    if (generatedConfig !== undefined) rmSync(generatedConfig, { force: true });
  };

  // The emulators run in their own process group, so a terminal's Ctrl-C reaches them only through this.
  const stopOnAbort = () => void stop();
  options.signal?.addEventListener("abort", stopOnAbort, { once: true });
  const auth = new AuthEmulatorClient(authEmulatorHost, projectId);
  try {
    await waitUntil(() => auth.isReachable(), emulators, "the Auth emulator to answer");
    await waitUntil(
      async () => (await fetch(`${backendUrl}/healthz`, { signal: AbortSignal.timeout(10_000) })).ok,
      emulators,
      "the api function to answer /healthz",
    );
    await waitUntil(
      async () => (await fetch(`${webUrl}/config.json`, { signal: AbortSignal.timeout(10_000) })).ok,
      emulators,
      "the Hosting emulator to serve the web client",
    );
  } catch (error) {
    await stop();
    options.signal?.throwIfAborted();
    throw error;
  } finally {
    options.signal?.removeEventListener("abort", stopOnAbort);
  }
  return {
    backendUrl,
    webUrl,
    authEmulatorHost,
    projectId,
    dataDirectory: options.dataDirectory,
    auth,
    emulators,
    stop,
  };
}
