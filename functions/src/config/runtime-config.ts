import { isAbsolute, resolve } from "node:path";
import { MODEL_CATALOGUE } from "../models/catalogue.ts";
import type { ModelEntry } from "../models/model-entry.ts";
import { reviewModelSettings, type ModelWarning } from "../models/model-review.ts";
import { openAiCompatibleModels } from "../models/operator-models.ts";
import { PRODUCTION_REQUIRED_SETTINGS, settingsSchema, type Settings } from "./settings.ts";
import { readToolsFile, type HttpToolDefinition } from "./tools-file.ts";
import { readPricesFile } from "./prices-file.ts";
import { BUILT_IN_PRICES, type PriceTable } from "../models/price-table.ts";
import { Pricing, withOverrides } from "../models/pricing.ts";

/** Firestore's sustained write rate for one document: one per second. */
const FIRESTORE_DOCUMENT_WRITE_INTERVAL_MS = 1_000;

/** Where chats, messages and jobs live: Firestore + Cloud Storage, or SQLite + files on disk. */
type DataMode = "embedded" | "firebase";

/** How a provider runs: against the real service, as a labelled offline simulation, or not at all. */
type ProviderMode = "live" | "simulated" | "unconfigured";

/** The providers an operator configures (a key, a URL); `veo` covers both video vendors: one Gemini API key. */
export type ConfiguredProvider = "gemini" | "nano_banana" | "veo" | "tavily" | "openai_compatible";

export interface RuntimeConfig {
  readonly settings: Settings;
  readonly mode: DataMode;
  /** True on Cloud Functions for real (not the emulator): simulated providers are refused there. */
  readonly production: boolean;
  readonly projectId: string;
  readonly storageBucket: string;
  readonly embeddedDataDirectory: string;
  readonly providers: Readonly<Record<ConfiguredProvider, ProviderMode>>;
  /** The model catalogue with the operator's OpenAI-compatible models added. */
  readonly models: readonly ModelEntry[];
  /** Configured models that are deprecated but still answer: logged at start-up with their date and replacement. */
  readonly modelWarnings: readonly ModelWarning[];
  /** The price table: the built-in prices with the operator's (`PRICES_FILE`) in place of theirs. */
  readonly prices: PriceTable;
  /** The operator's downstream HTTP tools (`TOOLS_FILE`), checked. */
  readonly httpTools: readonly HttpToolDefinition[];
  /** The values of `TOOL_SECRETS`, by name: sent only in those tools' auth headers, redacted from every log. */
  readonly toolSecrets: Readonly<Record<string, string>>;
}

/**
 * A configuration that cannot run. It names the settings, never their values, so it is safe to log whole
 * (one JSON error that groups every bad setting).
 */
export class ConfigurationError extends Error {
  readonly missing: readonly string[];
  readonly invalid: readonly string[];
  /** Why a setting is invalid, where a name alone would not say (model ids: retired, unknown, wrong kind). */
  readonly problems: Readonly<Record<string, string>>;

  constructor(missing: readonly string[], invalid: readonly string[], problems: Readonly<Record<string, string>> = {}) {
    super(
      `Invalid configuration: ${[
        missing.length > 0 ? `missing ${missing.join(", ")}` : "",
        invalid.length > 0 ? `invalid ${invalid.join(", ")}` : "",
        ...Object.entries(problems).map(([name, problem]) => `${name}: ${problem}`),
      ]
        .filter(Boolean)
        .join("; ")}`,
    );
    this.name = "ConfigurationError";
    this.missing = missing;
    this.invalid = invalid;
    this.problems = problems;
  }

  toJSON(): {
    error: string;
    missing: readonly string[];
    invalid: readonly string[];
    problems: Readonly<Record<string, string>>;
  } {
    return { error: "configuration_invalid", missing: this.missing, invalid: this.invalid, problems: this.problems };
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
function isProduction(env: NodeJS.ProcessEnv): boolean {
  return env.FUNCTIONS_EMULATOR !== "true" && typeof env.K_SERVICE === "string" && env.K_SERVICE !== "";
}

/**
 * Parses and cross-checks the environment. Throws {@link ConfigurationError} listing every problem at once.
 * `workingDirectory` anchors a relative `EMBEDDED_DATA_DIR`.
 */
export function loadRuntimeConfig(
  env: NodeJS.ProcessEnv,
  workingDirectory = process.cwd(),
  now: number = Date.now(),
): RuntimeConfig {
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
    if (settings.API_KEYS_ENABLED && settings.API_KEY_HASH_SECRET === undefined) missing.add("API_KEY_HASH_SECRET");
  }
  if (settings.SSE_CONNECTIONS_CRITICAL < settings.SSE_CONNECTIONS_WARNING) invalid.add("SSE_CONNECTIONS_CRITICAL");
  const problems: Record<string, string> = {};
  if (mode === "firebase" && settings.STREAM_UPDATE_INTERVAL_MS < FIRESTORE_DOCUMENT_WRITE_INTERVAL_MS) {
    problems.STREAM_UPDATE_INTERVAL_MS =
      `at least ${FIRESTORE_DOCUMENT_WRITE_INTERVAL_MS} in firebase mode: ` +
      "Firestore sustains about one write per second per document";
  }

  const operatorModels = openAiCompatibleModels(
    settings.OPENAI_COMPATIBLE_MODELS,
    settings.OPENAI_COMPATIBLE_VISION_MODELS,
    today(now),
  );
  const models = [...MODEL_CATALOGUE, ...operatorModels];
  const review = reviewModelSettings(models, modelSettings(settings), now);
  Object.assign(problems, review.problems);
  if (settings.OPENAI_COMPATIBLE_MODELS.length > 0 && settings.OPENAI_COMPATIBLE_BASE_URL === undefined) {
    missing.add("OPENAI_COMPATIBLE_BASE_URL");
  }
  const catalogued = new Set(MODEL_CATALOGUE.map((entry) => entry.id));
  const clashes = settings.OPENAI_COMPATIBLE_MODELS.filter((id) => catalogued.has(id));
  if (clashes.length > 0) problems.OPENAI_COMPATIBLE_MODELS = `${clashes.join(", ")} already name catalogue models`;
  const strangers = settings.OPENAI_COMPATIBLE_VISION_MODELS.filter(
    (id) => !settings.OPENAI_COMPATIBLE_MODELS.includes(id),
  );
  if (strangers.length > 0) {
    problems.OPENAI_COMPATIBLE_VISION_MODELS = `${strangers.join(", ")} not in OPENAI_COMPATIBLE_MODELS`;
  }
  let prices = BUILT_IN_PRICES;
  if (settings.PRICES_FILE !== undefined) {
    try {
      prices = withOverrides(BUILT_IN_PRICES, readPricesFile(resolve(workingDirectory, settings.PRICES_FILE)));
    } catch (error) {
      problems.PRICES_FILE = error instanceof Error ? error.message : String(error);
    }
  }
  // A model without a price could not be reserved for: every catalogue model this server may run needs one.
  const unpriced = new Pricing(prices).unpriced(
    servingModels(models, settings).filter(
      // Retired models are refused above; an operator's own server has no published price (it may be free).
      (entry) => entry.provider !== "openai-compatible" && (entry.shutdownDate ?? "9999") > today(now),
    ),
    new Date(now),
  );
  if (unpriced.length > 0) problems.PRICES_FILE = `no price for ${unpriced.join(", ")}: add them to PRICES_FILE`;
  let httpTools: HttpToolDefinition[] = [];
  if (settings.TOOLS_FILE !== undefined) {
    try {
      httpTools = readToolsFile(resolve(workingDirectory, settings.TOOLS_FILE));
    } catch (error) {
      problems.TOOLS_FILE = error instanceof Error ? error.message : String(error);
    }
  }
  const unlisted = httpTools.flatMap((tool) =>
    tool.auth === undefined || settings.TOOL_SECRETS.includes(tool.auth.secret) ? [] : [tool.auth.secret],
  );
  if (unlisted.length > 0) problems.TOOL_SECRETS = `${unlisted.join(", ")} named in TOOLS_FILE but not listed`;
  const toolSecrets: Record<string, string> = {};
  for (const name of settings.TOOL_SECRETS) {
    const value = env[name]?.trim() ?? "";
    if (value === "") missing.add(name);
    else toolSecrets[name] = value;
  }
  for (const name of Object.keys(problems)) invalid.add(name);
  if (missing.size > 0 || invalid.size > 0) {
    throw new ConfigurationError([...missing].sort(), [...invalid].sort(), problems);
  }

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
      openai_compatible: settings.OPENAI_COMPATIBLE_BASE_URL === undefined ? "unconfigured" : "live",
    },
    models,
    modelWarnings: review.warnings,
    prices,
    httpTools,
    toolSecrets,
  };
}

/** Which configured provider runs a model. */
export function configuredProviderOf(entry: Pick<ModelEntry, "kind" | "provider">): ConfiguredProvider {
  if (entry.provider === "openai-compatible") return "openai_compatible";
  if (entry.kind === "video") return "veo";
  return entry.kind === "image" ? "nano_banana" : "gemini";
}

/** The catalogue entries the settings name (the defaults, the allowed models, the fallbacks). */
function servingModels(models: readonly ModelEntry[], settings: Settings): ModelEntry[] {
  const named = new Set(modelSettings(settings).flatMap((setting) => setting.ids));
  return models.filter((entry) => named.has(entry.id));
}

/** The models each setting names, and what they must be. */
function modelSettings(settings: Settings) {
  return [
    { setting: "DEFAULT_MODEL", ids: [settings.DEFAULT_MODEL], kind: "text" },
    { setting: "ALLOWED_MODELS", ids: settings.ALLOWED_MODELS },
    { setting: "TEXT_FALLBACK_MODELS", ids: settings.TEXT_FALLBACK_MODELS, kind: "text" },
    { setting: "NANO_BANANA_MODEL", ids: [settings.NANO_BANANA_MODEL], kind: "image" },
    { setting: "IMAGE_FALLBACK_MODELS", ids: settings.IMAGE_FALLBACK_MODELS, kind: "image" },
    { setting: "VIDEO_MODEL", ids: [settings.VIDEO_MODEL], kind: "video" },
    { setting: "VEO_MODEL", ids: [settings.VEO_MODEL], kind: "video", provider: "veo" },
    { setting: "VIDEO_FALLBACK_MODELS", ids: settings.VIDEO_FALLBACK_MODELS, kind: "video" },
  ] as const;
}

function today(now: number): string {
  return new Date(now).toISOString().slice(0, 10);
}
