import { z } from "zod";
import type { RequestLimits } from "../contract/request-bodies.ts";
import { BUILT_IN_TOOLS } from "../contract/tool-names.ts";
import { DEFAULT_ALLOWED_MODELS, DEFAULT_FALLBACK_MODELS, DEFAULT_MODELS } from "../models/catalogue.ts";
import { DEFAULT_CLEANUP_SCHEDULE } from "./cleanup-schedule.ts";
import { FALSE_WORDS, TRUE_WORDS } from "./flag-words.ts";

/**
 * Every setting Atelier reads, in one schema. Keys are the environment variable names themselves, so the
 * runbook, `scripts/validate-env.ts` and the code speak the same words. Units are in the names
 * (`_MS`, `_SECONDS`, `_BYTES`, `_DAYS`); defaults live here and nowhere else.
 */

const KIB = 1024;
const MIB = 1024 * KIB;

const integer = (defaultValue: number, minimum = 0, maximum = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(minimum).max(maximum).default(defaultValue);
/** An unset and an empty variable mean the same: not configured. */
const blankAsMissing = (value: unknown) => (typeof value === "string" && value.trim() === "" ? undefined : value);
const optionalText = z.preprocess(blankAsMissing, z.string().trim().min(1).optional());
const optionalUrl = z.preprocess(blankAsMissing, z.url().optional());
const list = (defaultValue: string) =>
  z
    .string()
    .default(defaultValue)
    .transform((value) =>
      value
        .split(",")
        .map((item) => item.trim())
        .filter((item) => item.length > 0),
    );
/** An amount of US dollars up to a million, as a setting. */
const usdAmount = (defaultValue: number) => z.coerce.number().min(0).max(1_000_000).default(defaultValue);
const flag = (defaultValue: boolean) =>
  z.stringbool({ truthy: [...TRUE_WORDS], falsy: [...FALSE_WORDS] }).default(defaultValue);

export const settingsSchema = z.object({
  // --- Where data lives -------------------------------------------------------------------------------------
  /** `auto` picks `firebase` when Firestore is reachable (production or its emulator), else `embedded`. */
  DATA_BACKEND: z.enum(["auto", "embedded", "firebase"]).default("auto"),
  /** Embedded mode: folder for the SQLite database and media files. */
  EMBEDDED_DATA_DIR: z.string().default(".data"),
  /** Embedded mode: how long a request may wait for the database lock held by another process. */
  EMBEDDED_LOCK_TIMEOUT_MS: integer(5_000, 1),
  /** Public base URL of the `api` function; embedded media URLs are built on it. */
  PUBLIC_API_URL: optionalUrl,

  // --- Firebase project (optional overrides: Cloud Functions provides FIREBASE_CONFIG) -----------------------
  FIREBASE_PROJECT_ID: optionalText,
  FIREBASE_CLIENT_EMAIL: optionalText,
  FIREBASE_PRIVATE_KEY: optionalText,
  FIREBASE_STORAGE_BUCKET: optionalText,
  FUNCTIONS_REGION: z.string().default("us-central1"),

  // --- Providers ----------------------------------------------------------------------------------------------
  GEMINI_API_KEY: optionalText,
  /** Base URL override for the Gemini API (tests, proxies). */
  GEMINI_ENDPOINT: optionalUrl,
  /**
   * Model ids are checked against the model catalogue (`functions/src/models/catalogue.ts`) at start-up: an
   * unknown one, one of the wrong kind, or one past its shutdown date stops the service with the setting named.
   */
  DEFAULT_MODEL: z.string().trim().default(DEFAULT_MODELS.text),
  /**
   * Models a user may pick, of any kind (text, image, video: the catalogue knows which); the defaults
   * (`DEFAULT_MODEL`, `NANO_BANANA_MODEL`, `VIDEO_MODEL`, `VEO_MODEL`) are always allowed.
   */
  ALLOWED_MODELS: list(DEFAULT_ALLOWED_MODELS.join(",")),
  /** Tried in order when the chosen text model fails before its first token (429, 5xx, model gone). */
  TEXT_FALLBACK_MODELS: list(DEFAULT_FALLBACK_MODELS.text.join(",")),
  /** Gemini 3 and later: how hard the model thinks before answering (sent only to models that accept it). */
  THINKING_LEVEL: z.enum(["minimal", "low", "medium", "high", "xhigh"]).default("low"),
  NANO_BANANA_API_KEY: optionalText,
  NANO_BANANA_ENDPOINT: optionalUrl,
  NANO_BANANA_MODEL: z.string().trim().default(DEFAULT_MODELS.image),
  /** Tried in order when the chosen image model fails before it returns (429, 5xx, model gone). */
  IMAGE_FALLBACK_MODELS: list(DEFAULT_FALLBACK_MODELS.image.join(",")),
  /** The Gemini API key for video, Veo and Gemini Omni alike. */
  VEO_API_KEY: optionalText,
  VEO_ENDPOINT: optionalUrl,
  /** The default video model (Gemini Omni through the Interactions API, or a Veo model). */
  VIDEO_MODEL: z.string().trim().default(DEFAULT_MODELS.video),
  /** The Veo model offered beside the default (extension, first and last frame). */
  VEO_MODEL: z.string().trim().default(DEFAULT_MODELS.veo),
  /** Tried in order when the chosen video model fails to start (429, 5xx, model gone). */
  VIDEO_FALLBACK_MODELS: list(DEFAULT_FALLBACK_MODELS.video.join(",")),
  /** Any server speaking OpenAI's Chat Completions (Ollama, vLLM, OpenRouter, ...), e.g. `http://host:11434/v1`. */
  OPENAI_COMPATIBLE_BASE_URL: optionalUrl,
  OPENAI_COMPATIBLE_API_KEY: optionalText,
  /** The model ids that server offers; each joins the catalogue as a text model of provider `openai-compatible`. */
  OPENAI_COMPATIBLE_MODELS: list(""),
  /** Those of `OPENAI_COMPATIBLE_MODELS` that take images (llava, qwen-vl, ...): chat attachments go to them. */
  OPENAI_COMPATIBLE_VISION_MODELS: list(""),
  VEO_POLL_INTERVAL_SECONDS: integer(10, 1),
  VEO_MAX_WAIT_SECONDS: integer(600, 1),
  TAVILY_API_KEY: optionalText,
  /**
   * Web-search grounding. Also read at deploy time: `false` deploys without binding the `TAVILY_API_KEY` secret
   * (which then need not exist), and grounded requests answer 503.
   */
  TAVILY_ENABLED: flag(true),
  TAVILY_ENDPOINT: optionalUrl,
  TAVILY_SEARCH_DEPTH: z.enum(["basic", "advanced"]).default("advanced"),
  TAVILY_MAX_RESULTS: integer(5, 1),
  TAVILY_MAX_QUERIES_PER_HOUR: integer(20, 1),
  TAVILY_TIMEOUT_SECONDS: integer(15, 1),
  /** How long a provider call may go without progress before it is abandoned. */
  PROVIDER_TIMEOUT_SECONDS: integer(60, 1),
  /**
   * Simulated providers where a key is missing: `auto` in embedded mode only; `on` also in firebase mode against
   * the emulators (`npm run emulators` without keys); `off` never. Never in production, whatever the value.
   */
  SIMULATED_PROVIDERS: z.enum(["auto", "on", "off"]).default("auto"),
  /** Pacing of the simulated text provider, per token. */
  SIMULATED_TOKEN_DELAY_MS: integer(25),
  /** How long simulated image and video jobs take. */
  SIMULATED_JOB_DELAY_MS: integer(300),

  // --- HTTP ---------------------------------------------------------------------------------------------------
  FRONTEND_ORIGIN: optionalText,
  CORS_ALLOWED_ORIGINS: list(""),
  MAX_REQUEST_BYTES: integer(16 * MIB, 1),
  MAX_MESSAGE_CHARS: integer(32_000, 1),
  MAX_ATTACHMENTS: integer(4, 0),
  MAX_ATTACHMENT_SIZE_BYTES: integer(10 * MIB, 1),
  MAX_IMAGE_SIZE_BYTES: integer(10 * MIB, 1),
  MAX_IMAGE_DIMENSION: integer(2048, 1),
  /** How far (pixels) beyond a masked edit's mask the edit fades into the original. */
  EDIT_MASK_FEATHER_PX: integer(3, 0, 64),
  /** The longest side of the WebP thumbnail stored beside each generated image. */
  THUMBNAIL_MAX_PX: integer(384, 16, 2048),
  /** Verify on each request that the ID token was not revoked (cached per user). */
  AUTH_CHECK_REVOKED: flag(true),
  AUTH_REVOCATION_CACHE_SECONDS: integer(60),
  APP_CHECK: z.enum(["off", "monitor", "enforce"]).default("off"),
  /**
   * Service API keys (`X-API-Key`) in firebase mode; embedded mode always has them. Needs `API_KEY_HASH_SECRET`
   * (a Secret Manager secret in production), under which only a keyed hash of each key is stored.
   */
  API_KEYS_ENABLED: flag(false),
  /** At least 32 characters; embedded mode makes one in its data folder when this is unset. */
  API_KEY_HASH_SECRET: z.preprocess(blankAsMissing, z.string().trim().min(32).optional()),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  /**
   * Traces and metrics: `/metrics` always serves this instance's metrics (admins only); with an OTLP/HTTP endpoint
   * (a collector, or Google's Telemetry API) spans and metrics are pushed there too. The headers (an API key,
   * `name=value` pairs separated by commas) are a secret.
   */
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalUrl,
  OTEL_EXPORTER_OTLP_HEADERS: z.preprocess(
    blankAsMissing,
    z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9-]+=[^,]+(,\s*[A-Za-z0-9-]+=[^,]+)*$/, "name=value pairs separated by commas")
      .optional(),
  ),
  /** Signs exports with the function's Google credentials instead: for `https://telemetry.googleapis.com`. */
  OTEL_EXPORTER_GOOGLE_AUTH: flag(false),
  /** The share of requests traced, 0..1, whatever a caller's `traceparent` asks (its trace id is kept). */
  TRACE_SAMPLE_RATIO: z.coerce.number().min(0).max(1).default(1),
  METRICS_EXPORT_INTERVAL_SECONDS: integer(60, 5, 3_600),
  /** How long `/health` and `/readyz` wait for the data backend and blob store to answer. */
  HEALTH_CHECK_TIMEOUT_MS: integer(2_000, 1),

  // --- Streaming ----------------------------------------------------------------------------------------------
  /**
   * How often a streaming answer is written to its message document. Firestore sustains about one write per
   * second per document, so firebase mode refuses less than 1000; embedded mode (tests, demos) takes less.
   */
  STREAM_UPDATE_INTERVAL_MS: integer(1_000, 10),
  SSE_HEARTBEAT_SECONDS: integer(15, 1),
  DISCONNECT_GRACE_SECONDS: integer(30, 0),
  /** A resuming client counts as attached while its last heartbeat is younger than this. */
  RESUME_ATTACH_TIMEOUT_SECONDS: integer(20, 1),
  CONTEXT_MAX_MESSAGES: integer(20, 1),
  CONTEXT_MAX_CHARS: integer(24_000, 100),
  SYSTEM_INSTRUCTION: z
    .string()
    .default(
      "You are Atelier, a helpful creative assistant. Answer clearly and concisely. Use Markdown where it helps.",
    ),
  // --- Tools in chat ----------------------------------------------------------------------------------------------
  /** The chat model may call tools (pictures, videos, web search); off: it answers in words alone. */
  TOOLS_ENABLED: flag(true),
  /** Rounds of tool calls in one answer; past them the answer ends with a sentence saying so. */
  TOOL_MAX_STEPS: integer(4, 1, 16),
  /** Built-in tools whose calls wait for the user's yes (`approval_required`): the slow, costly ones. */
  TOOLS_REQUIRING_APPROVAL: list("generate_video").pipe(z.array(z.enum(BUILT_IN_TOOLS))),
  /** How long an answer waits for that yes before the sweep ends it, the call declined. */
  APPROVAL_TIMEOUT_SECONDS: integer(900, 10),
  /** The operator's downstream HTTP tools: a JSON file (relative to the functions folder), checked at start-up. */
  TOOLS_FILE: optionalText,
  /** The secrets those tools send (environment variables; Secret Manager secrets in production), by name. */
  TOOL_SECRETS: list("").pipe(z.array(z.string().regex(/^[A-Z][A-Z0-9_]{0,99}$/, "upper-case secret names"))),
  /** How long a downstream tool may take when its definition gives no `timeout_seconds`. */
  FUNCTION_TIMEOUT_SECONDS: integer(30, 1, 540),
  /** What the model sees of a downstream tool's answer at most; the rest is cut. */
  TOOL_RESULT_MAX_BYTES: integer(16 * KIB, 256, MIB),
  /** Streams one user may have open at once, answers and resumes alike, across every instance. */
  MAX_OPEN_STREAMS_PER_USER: integer(10, 1),
  SSE_CONNECTIONS_WARNING: integer(150, 1),
  SSE_CONNECTIONS_CRITICAL: integer(200, 1),
  SHUTDOWN_GRACE_SECONDS: integer(8, 0),

  // --- Limits and quotas ------------------------------------------------------------------------------------------
  RATE_LIMIT_ENABLED: flag(true),
  RATE_LIMIT_RPM: integer(60, 1),
  RATE_LIMIT_BURST: integer(20, 1),
  RATE_LIMIT_FREE: integer(50, 0),
  RATE_LIMIT_PAID: integer(500, 0),
  /**
   * Monthly budgets in US dollars by tier: every generation reserves its most expensive outcome against the
   * budget before a provider is called, and a request that does not fit is refused (0: no money limit). An
   * admin can set one user's budget (`POST /admin/users/{uid}/budget`).
   */
  // Five dollars is one 8-second Veo 3.1 video, or some thousands of Flash answers.
  BUDGET_FREE_USD: usdAmount(5),
  BUDGET_PAID_USD: usdAmount(100),
  /** The operator's prices (a JSON file in the price table's shape), replacing built-in ones per model. */
  PRICES_FILE: optionalText,
  /** The most tokens one answer (one model call) may write, thinking included: the cap a reservation is sized by. */
  MAX_OUTPUT_TOKENS: integer(16_384, 256, 65_536),
  RATE_LIMIT_GLOBAL_TASKS: integer(15, 1),
  RATE_LIMIT_CONVERSATION_TASKS: integer(5, 1),
  RATE_LIMIT_USER_ACTIVE_JOBS: integer(10, 1),
  /** Uploads per user per UTC day, by count and by bytes (`POST /uploads` and direct SDK uploads alike). */
  UPLOAD_MAX_PER_DAY: integer(50, 1),
  UPLOAD_MAX_BYTES_PER_DAY: integer(100 * MIB, 1),

  // --- Jobs -------------------------------------------------------------------------------------------------------
  /** `auto`: Cloud Tasks in production and under the Cloud Tasks emulator, else in this process. */
  TASK_QUEUE: z.enum(["auto", "cloud-tasks", "in-process"]).default("auto"),
  MAX_PROMPT_CHARS: integer(4_000, 1),
  IMAGE_MAX_COUNT: integer(4, 1),
  VIDEO_MAX_DURATION_SECONDS: integer(8, 1),
  JOB_LEASE_SECONDS: integer(300, 1),
  JOB_MAX_ATTEMPTS: integer(5, 1),
  /** Time a task may wait to be dispatched behind others, on top of its retry budget, before its job is abandoned. */
  JOB_DISPATCH_GRACE_SECONDS: integer(600),
  /** Cloud Tasks accepts 15 s to 30 min for an HTTP target; outside that every enqueue fails. */
  TASK_DISPATCH_DEADLINE_SECONDS: integer(900, 15, 1_800),

  // --- Retention and cleanup --------------------------------------------------------------------------------------
  REQUEST_RETENTION_DAYS: integer(7, 1),
  MEDIA_RETENTION_DAYS: integer(0),
  /** Uploads older than this are deleted by the sweep (a job keeps its own copy of an upload it uses). */
  UPLOAD_RETENTION_DAYS: integer(30, 1),
  MEDIA_URL_TTL_SECONDS: integer(7 * 24 * 3600, 60),
  STALE_STREAM_SECONDS: integer(300, 1),
  CLEANUP_BATCH_SIZE: integer(200, 1),
  CLEANUP_SCHEDULE: z.string().default(DEFAULT_CLEANUP_SCHEDULE),
});

export type Settings = z.output<typeof settingsSchema>;
export type SettingName = keyof Settings;

/** Settings that hold credentials: never logged, never echoed, redacted wherever they could appear. */
export const SECRET_SETTINGS = [
  "GEMINI_API_KEY",
  "NANO_BANANA_API_KEY",
  "VEO_API_KEY",
  "TAVILY_API_KEY",
  "OPENAI_COMPATIBLE_API_KEY",
  "FIREBASE_PRIVATE_KEY",
  "API_KEY_HASH_SECRET",
  "OTEL_EXPORTER_OTLP_HEADERS",
] as const satisfies readonly SettingName[];

/** Required in production: without them a live provider cannot run and simulated ones are not allowed. */
export const PRODUCTION_REQUIRED_SETTINGS = [
  "GEMINI_API_KEY",
  "NANO_BANANA_API_KEY",
  "VEO_API_KEY",
] as const satisfies readonly SettingName[];

const limitsOfSettings = new WeakMap<Settings, RequestLimits>();

/** The request-body limits of these settings, one object per settings object (the body schemas are built per limits). */
export function requestLimits(settings: Settings): RequestLimits {
  let limits = limitsOfSettings.get(settings);
  if (limits === undefined) {
    limits = {
      maxMessageChars: settings.MAX_MESSAGE_CHARS,
      maxAttachments: settings.MAX_ATTACHMENTS,
      maxPromptChars: settings.MAX_PROMPT_CHARS,
      imageMaxCount: settings.IMAGE_MAX_COUNT,
      videoMaxDurationSeconds: settings.VIDEO_MAX_DURATION_SECONDS,
    };
    limitsOfSettings.set(settings, limits);
  }
  return limits;
}
