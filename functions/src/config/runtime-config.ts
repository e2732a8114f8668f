import { isAbsolute, resolve } from "node:path";
import { PRODUCTION_REQUIRED_SETTINGS, settingsSchema, type Settings } from "./settings.ts";

/** Where chats, messages and jobs live: Firestore + Cloud Storage, or SQLite + files on disk. */
export type DataMode = "embedded" | "firebase";

/** How a provider runs: against the real service, as a labelled offline simulation, or not at all. */
export type ProviderMode = "live" | "simulated" | "unconfigured";

export type ProviderName = "gemini" | "nano_banana" | "veo" | "tavily";

export interface RuntimeConfig {
  readonly settings: Settings;
  readonly mode: DataMode;
  /** True on Cloud Functions for real (not the emulator): simulated providers are refused there. */
  readonly production: boolean;
  readonly projectId: string;
  readonly storageBucket: string;
  readonly embeddedDataDirectory: string;
  readonly providers: Readonly<Record<ProviderName, ProviderMode>>;
}

/**
 * A configuration that cannot run. It names the settings, never their values, so it is safe to log whole
 * (the seed's "grouped JSON error").
 */
export class ConfigurationError extends Error {
  readonly missing: readonly string[];
  readonly invalid: readonly string[];

  constructor(missing: readonly string[], invalid: readonly string[]) {
    super(
      `Invalid configuration: ${[
        missing.length > 0 ? `missing ${missing.join(", ")}` : "",
        invalid.length > 0 ? `invalid ${invalid.join(", ")}` : "",
      ]
        .filter(Boolean)
        .join("; ")}`,
    );
    this.name = "ConfigurationError";
    this.missing = missing;
    this.invalid = invalid;
  }

  toJSON(): { error: string; missing: readonly string[]; invalid: readonly string[] } {
    return { error: "configuration_invalid", missing: this.missing, invalid: this.invalid };
  }
}

interface FirebaseConfigVariable {
  projectId?: string;
  storageBucket?: string;
}

function readFirebaseConfig(raw: string | undefined): FirebaseConfigVariable {
  if (raw === undefined || raw === "") return {};
  try {
    const parsed: unknown = JSON.parse(raw);
    return typeof parsed === "object" && parsed !== null ? parsed : {};
  } catch {
    return {};
  }
}

/** Cloud Functions sets K_SERVICE; the emulator sets it too but also FUNCTIONS_EMULATOR. */
export function isProduction(env: NodeJS.ProcessEnv): boolean {
  return env.FUNCTIONS_EMULATOR !== "true" && typeof env.K_SERVICE === "string" && env.K_SERVICE !== "";
}

/**
 * Parses and cross-checks the environment. Throws {@link ConfigurationError} listing every problem at once.
 * `workingDirectory` anchors a relative `EMBEDDED_DATA_DIR`.
 */
export function loadRuntimeConfig(env: NodeJS.ProcessEnv, workingDirectory = process.cwd()): RuntimeConfig {
  const parsed = settingsSchema.safeParse(env);
  const missing = new Set<string>();
  const invalid = new Set<string>();
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? "(root)");
      if (env[name] === undefined) missing.add(name);
      else invalid.add(name);
    }
    throw new ConfigurationError([...missing].sort(), [...invalid].sort());
  }
  const settings = parsed.data;
  const production = isProduction(env);
  const firebaseConfig = readFirebaseConfig(env.FIREBASE_CONFIG);

  const mode: DataMode =
    settings.DATA_BACKEND === "auto"
      ? production || (env.FIRESTORE_EMULATOR_HOST ?? "") !== ""
        ? "firebase"
        : "embedded"
      : settings.DATA_BACKEND;
  if (production && mode === "embedded") invalid.add("DATA_BACKEND");

  const projectId =
    settings.FIREBASE_PROJECT_ID ??
    firebaseConfig.projectId ??
    env.GCLOUD_PROJECT ??
    env.GOOGLE_CLOUD_PROJECT ??
    (production ? undefined : "demo-atelier");
  if (projectId === undefined) missing.add("FIREBASE_PROJECT_ID");

  const storageBucket =
    settings.FIREBASE_STORAGE_BUCKET ??
    firebaseConfig.storageBucket ??
    (projectId === undefined ? undefined : `${projectId}.appspot.com`);
  if (mode === "firebase" && production && storageBucket === undefined) missing.add("FIREBASE_STORAGE_BUCKET");

  if (production) {
    for (const name of PRODUCTION_REQUIRED_SETTINGS) if (settings[name] === undefined) missing.add(name);
  }
  if (settings.SSE_CONNECTIONS_CRITICAL < settings.SSE_CONNECTIONS_WARNING) invalid.add("SSE_CONNECTIONS_CRITICAL");
  if (missing.size > 0 || invalid.size > 0) throw new ConfigurationError([...missing].sort(), [...invalid].sort());

  // Embedded mode is the offline one; firebase mode without a key is a clear "not configured" unless asked.
  const simulationAllowed =
    !production &&
    (settings.SIMULATED_PROVIDERS === "on" || (settings.SIMULATED_PROVIDERS === "auto" && mode === "embedded"));
  const providerMode = (key: string | undefined): ProviderMode =>
    key !== undefined ? "live" : simulationAllowed ? "simulated" : "unconfigured";

  return {
    settings,
    mode,
    production,
    projectId: projectId ?? "demo-atelier",
    storageBucket: storageBucket ?? "demo-atelier.appspot.com",
    embeddedDataDirectory: isAbsolute(settings.EMBEDDED_DATA_DIR)
      ? settings.EMBEDDED_DATA_DIR
      : resolve(workingDirectory, settings.EMBEDDED_DATA_DIR),
    providers: {
      gemini: providerMode(settings.GEMINI_API_KEY),
      nano_banana: providerMode(settings.NANO_BANANA_API_KEY),
      veo: providerMode(settings.VEO_API_KEY),
      tavily: settings.TAVILY_ENABLED ? providerMode(settings.TAVILY_API_KEY) : "unconfigured",
    },
  };
}

/** Every model a client may request. */
export function allowedModels(settings: Settings): ReadonlySet<string> {
  return new Set([settings.DEFAULT_MODEL, ...settings.ALLOWED_MODELS]);
}
