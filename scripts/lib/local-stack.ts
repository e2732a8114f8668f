import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AuthEmulatorClient } from "./auth-emulator-client.ts";
import { spawnEmulators, waitUntil, type EmulatorProcess } from "./firebase-emulators.ts";
import { repositoryRoot } from "./paths.ts";

/**
 * The local stack in embedded mode: the real firebase-tools emulators for Auth, Functions and Cloud Tasks
 * (pure Node, no Java), with the functions keeping their data in SQLite and files under `dataDirectory`.
 * `npm start` runs it on the ports in firebase.json; the end-to-end tests run a second one on free ports.
 */

export interface Ports {
  readonly auth: number;
  readonly functions: number;
  readonly tasks: number;
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
}

export interface LocalStack {
  readonly backendUrl: string;
  readonly authEmulatorHost: string;
  readonly projectId: string;
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
}

export function configuredPorts(): Ports {
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
    hub: port("hub"),
    logging: port("logging"),
  };
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

/** Writes a firebase.json with other ports beside the real one (functions paths stay relative to the repo). */
function configWithPorts(ports: Ports): string {
  const config = JSON.parse(readFileSync(join(repositoryRoot, "firebase.json"), "utf8")) as FirebaseJson;
  for (const [name, port] of Object.entries(ports) as [string, number][]) {
    const entry = config.emulators[name];
    config.emulators[name] = { ...(typeof entry === "object" ? entry : {}), port };
  }
  const file = join(repositoryRoot, `firebase.${String(ports.functions)}.local.json`);
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const projectId = options.projectId ?? DEFAULT_PROJECT_ID;
  const ports = options.ports ?? configuredPorts();
  const backendUrl = `http://127.0.0.1:${String(ports.functions)}/${projectId}/${REGION}/api`;
  const authEmulatorHost = `127.0.0.1:${String(ports.auth)}`;
  mkdirSync(options.dataDirectory, { recursive: true });
  await buildFunctions();

  const generatedConfig = options.ports === undefined ? undefined : configWithPorts(ports);
  const exportDirectory = join(options.dataDirectory, "emulators");
  const environment: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !EMULATOR_VARIABLES.includes(name)),
  );
  const emulators = spawnEmulators({
    only: ["auth", "functions", "tasks"],
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
      NODE_OPTIONS: [environment.NODE_OPTIONS, "--disable-warning=ExperimentalWarning"].filter(Boolean).join(" "),
      ...options.environment,
    },
  });
  const stop = async () => {
    await emulators.stop();
    if (generatedConfig !== undefined) rmSync(generatedConfig, { force: true });
  };

  const auth = new AuthEmulatorClient(authEmulatorHost, projectId);
  try {
    await waitUntil(() => auth.isReachable(), emulators, "the Auth emulator to answer");
    await waitUntil(
      async () => (await fetch(`${backendUrl}/healthz`, { signal: AbortSignal.timeout(10_000) })).ok,
      emulators,
      "the api function to answer /healthz",
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { backendUrl, authEmulatorHost, projectId, auth, emulators, stop };
}
