import { join } from "node:path";
import type { ApiKeys } from "../auth/api-keys.ts";
import type { CallerAuthorization, CallerAuthorizationOptions } from "../auth/caller.ts";
import type { IdTokenVerifier } from "../auth/id-token-verifier.ts";
import { ActiveStreams } from "../chat/active-streams.ts";
import type { ChatService } from "../chat/chat-service.ts";
import type { HistoryService } from "../chat/history-service.ts";
import type { ChatDeletion } from "../chat/chat-deletion.ts";
import type { UploadService } from "../uploads/upload-service.ts";
import type { StreamSlots } from "../ops/stream-slots.ts";
import type { StreamAdmission } from "../ops/stream-admission.ts";
import type { AccountService } from "../account/account-service.ts";
import type { UsageReport } from "../account/usage-report.ts";
import { deliveryBudget } from "../jobs/delivery-budget.ts";
import type { JobLedger } from "../jobs/job-ledger.ts";
import type { JobService } from "../jobs/job-service.ts";
import type { JobWorker } from "../jobs/job-worker.ts";
import type { ImageProvider } from "../providers/image-provider.ts";
import type { VideoProvider } from "../providers/video-provider.ts";
import type { TaskQueue } from "../queue/task-queue.ts";
import type { JobRecord } from "../store/records.ts";
import type { BlobStore } from "../blobs/blob-store.ts";
import type { FileBlobStore } from "../blobs/file-blob-store.ts";
import { configuredProviderOf, type RuntimeConfig } from "../config/runtime-config.ts";
import { ModelChoices } from "../models/model-choices.ts";
import type { ModelProvider } from "../models/model-entry.ts";
import { TextModels } from "../models/text-models.ts";
import { Pricing } from "../models/pricing.ts";
import { microsOf } from "../store/usage-ledger.ts";
import type { TierBudgets } from "../ops/budget-check.ts";
import { AnswerCost } from "../chat/answer-cost.ts";
import { requestLimits, SECRET_SETTINGS } from "../config/settings.ts";
import type { BuiltInTool } from "../contract/tool-names.ts";
import type { ToolRegistry } from "../tools/tool-registry.ts";
import type { Grounder } from "../grounding/grounder.ts";
import type { DocumentDatabase } from "../database/document-database.ts";
import { Logger, Redactor, type LogSink } from "../logging/logger.ts";
import type { SpanExporter } from "@opentelemetry/sdk-trace";
import type { Telemetry } from "../telemetry/telemetry.ts";
import type { CleanupService } from "../cleanup/cleanup-service.ts";
import { ConnectionGauge } from "../ops/connection-gauge.ts";
import type { RateLimiter } from "../ops/rate-limiter.ts";
import type { SearchProvider } from "../providers/search-provider.ts";
import type { TextProvider } from "../providers/text-provider.ts";
import { getAdminApp } from "./admin-app.ts";
import { packageVersion } from "./version.ts";

/**
 * The composition root: every adapter and service, built once per process from the runtime config. Heavy
 * modules (firebase-admin parts, SQLite, provider SDKs) are imported here, on first use, never at module
 * load, so a cold start pays only for what the invoked function needs.
 */
export interface Services {
  readonly config: RuntimeConfig;
  readonly logger: Logger;
  readonly database: DocumentDatabase;
  readonly blobs: BlobStore;
  /** Embedded mode only: the file store whose signed URLs the `api` function serves. */
  readonly fileBlobs: FileBlobStore | undefined;
  readonly verifier: IdTokenVerifier;
  /** The one authorization of the HTTP API and the callable: ID tokens with App Check, service API keys. */
  readonly callers: CallerAuthorization;
  /** Service API keys; absent in firebase mode unless `API_KEYS_ENABLED`. */
  readonly apiKeys: ApiKeys | undefined;
  readonly version: string;
  /** The models users may pick, per kind, and their fallback chains. */
  readonly models: ModelChoices;
  readonly activeStreams: ActiveStreams;
  /** This instance's open streaming connections, with threshold logging. */
  readonly connections: ConnectionGauge;
  /** Traces and metrics (`/metrics`, OTLP export). */
  readonly telemetry: Telemetry;
  readonly chat: ChatService;
  readonly history: HistoryService;
  /** Account deletion and export. */
  readonly accounts: AccountService;
  /** Spending reports and per-user budgets. */
  readonly usage: UsageReport;
  /** Each user's open streams, capped across instances. */
  readonly streamSlots: StreamSlots;
  /** A new stream's rate-limit token and slot, taken in the transaction that starts it. */
  readonly streamAdmission: StreamAdmission;
  /** Users' uploads, counted against the daily limits. */
  readonly uploads: UploadService;
  /** Deletes chats resumably, cancelling their work (the route and the sweep). */
  readonly chatDeletion: ChatDeletion;
  /** Per-user request rate limit on generating routes; undefined when `RATE_LIMIT_ENABLED` is false. */
  readonly rateLimiter: RateLimiter | undefined;
  readonly jobs: JobService;
  readonly jobWorker: JobWorker;
  readonly ledger: JobLedger;
  readonly queue: TaskQueue;
  readonly cleanup: CleanupService;
  /** Carries a job's state onto its message and request mapping (the Firestore trigger's work). */
  readonly propagate: (uid: string, job: JobRecord) => Promise<void>;
  readonly now: () => number;
  close(): Promise<void>;
}

export interface ServiceOptions {
  /** Where log lines go (tests capture them). */
  readonly logSink?: LogSink;
  /** Also sends every span here, unbatched (the tests' in-memory exporter). */
  readonly spanExporter?: SpanExporter;
  /** The clock (tests move it). */
  readonly now?: () => number;
  /** Wraps the data port, e.g. to count writes in tests and benchmarks. */
  readonly wrapDatabase?: (database: DocumentDatabase) => DocumentDatabase;
  /** A text provider chosen by the caller (benchmarks feed one token source to every contender). */
  readonly textProvider?: TextProvider;
  /** An image provider chosen by the caller (the jobs benchmark times the provider inside each job). */
  readonly imageProvider?: ImageProvider;
  /**
   * Embedded mode: makes transaction attempts lose to a simulated concurrent writer (see the SQLite adapter),
   * so tests prove every transaction's work is safe to run again, as Firestore may run it.
   */
  readonly simulatedContention?: (attempt: number) => boolean;
}

/** The model choices of this configuration: defaults, what users may pick, fallback chains. */
export function modelChoices(config: RuntimeConfig): ModelChoices {
  const { settings } = config;
  return new ModelChoices({
    entries: config.models,
    defaults: { text: settings.DEFAULT_MODEL, image: settings.NANO_BANANA_MODEL, video: settings.VIDEO_MODEL },
    allowed: [...settings.ALLOWED_MODELS, settings.VEO_MODEL],
    fallbacks: {
      text: settings.TEXT_FALLBACK_MODELS,
      image: settings.IMAGE_FALLBACK_MODELS,
      video: settings.VIDEO_FALLBACK_MODELS,
    },
    available: (entry) => config.providers[configuredProviderOf(entry)] !== "unconfigured",
  });
}

/** The text adapters by provider: Gemini (live or the labelled simulation) and an OpenAI-compatible server. */
async function textProviders(config: RuntimeConfig): Promise<Partial<Record<ModelProvider, TextProvider>>> {
  const { settings } = config;
  const providers: Partial<Record<ModelProvider, TextProvider>> = {};
  const gemini = await geminiTextProvider(config);
  if (gemini !== undefined) providers.gemini = gemini;
  if (config.providers.openai_compatible === "live" && settings.OPENAI_COMPATIBLE_BASE_URL !== undefined) {
    const { OpenAiCompatibleTextProvider } =
      await import("../providers/openai-compatible/openai-compatible-text-provider.ts");
    providers["openai-compatible"] = new OpenAiCompatibleTextProvider({
      baseUrl: settings.OPENAI_COMPATIBLE_BASE_URL,
      ...(settings.OPENAI_COMPATIBLE_API_KEY === undefined ? {} : { apiKey: settings.OPENAI_COMPATIBLE_API_KEY }),
      timeoutMs: settings.PROVIDER_TIMEOUT_SECONDS * 1000,
    });
  }
  return providers;
}

/** Gemini text for the configured mode: live, the labelled simulation, or none. */
async function geminiTextProvider(config: RuntimeConfig): Promise<TextProvider | undefined> {
  const { settings } = config;
  if (config.providers.gemini === "live" && settings.GEMINI_API_KEY !== undefined) {
    const { GeminiTextProvider } = await import("../providers/google/gemini-text-provider.ts");
    return new GeminiTextProvider({
      apiKey: settings.GEMINI_API_KEY,
      ...(settings.GEMINI_ENDPOINT === undefined ? {} : { baseUrl: settings.GEMINI_ENDPOINT }),
      timeoutMs: settings.PROVIDER_TIMEOUT_SECONDS * 1000,
    });
  }
  if (config.providers.gemini === "simulated") {
    const { SimulatedTextProvider } = await import("../providers/simulated/simulated-text-provider.ts");
    return new SimulatedTextProvider({ tokenDelayMs: settings.SIMULATED_TOKEN_DELAY_MS });
  }
  return undefined;
}

/** The image provider: live Nano Banana, the labelled simulation, or none. */
async function imageProvider(config: RuntimeConfig): Promise<ImageProvider | undefined> {
  const { settings } = config;
  if (config.providers.nano_banana === "live" && settings.NANO_BANANA_API_KEY !== undefined) {
    const { NanoBananaImageProvider } = await import("../providers/google/nano-banana-image-provider.ts");
    return new NanoBananaImageProvider({
      apiKey: settings.NANO_BANANA_API_KEY,
      ...(settings.NANO_BANANA_ENDPOINT === undefined ? {} : { baseUrl: settings.NANO_BANANA_ENDPOINT }),
    });
  }
  if (config.providers.nano_banana === "simulated") {
    const { SimulatedImageProvider } = await import("../providers/simulated/simulated-image-provider.ts");
    return new SimulatedImageProvider({ delayMs: settings.SIMULATED_JOB_DELAY_MS });
  }
  return undefined;
}

/** The video adapters by vendor, Veo and Omni (one Gemini API key for both): live, simulated, or none. */
async function videoProviders(
  config: RuntimeConfig,
  now: () => number,
): Promise<Partial<Record<"veo" | "omni", VideoProvider>>> {
  const { settings } = config;
  if (config.providers.veo === "live" && settings.VEO_API_KEY !== undefined) {
    const [{ VeoVideoProvider }, { OmniVideoProvider }] = await Promise.all([
      import("../providers/google/veo-video-provider.ts"),
      import("../providers/google/omni-video-provider.ts"),
    ]);
    const client = {
      apiKey: settings.VEO_API_KEY,
      ...(settings.VEO_ENDPOINT === undefined ? {} : { baseUrl: settings.VEO_ENDPOINT }),
      requestTimeoutMs: settings.PROVIDER_TIMEOUT_SECONDS * 1000,
    };
    return { veo: new VeoVideoProvider(client), omni: new OmniVideoProvider(client) };
  }
  if (config.providers.veo === "simulated") {
    const { SimulatedVideoProvider } = await import("../providers/simulated/simulated-video-provider.ts");
    const delayMs = settings.SIMULATED_JOB_DELAY_MS;
    return {
      veo: new SimulatedVideoProvider({ delayMs, now, vendor: "veo" }),
      omni: new SimulatedVideoProvider({ delayMs, now, vendor: "omni" }),
    };
  }
  return {};
}

/** Cloud Tasks in production and under the Cloud Tasks emulator; otherwise this process runs the tasks. */
function usesCloudTasks(config: RuntimeConfig): boolean {
  const choice = config.settings.TASK_QUEUE;
  if (choice !== "auto") return choice === "cloud-tasks";
  return config.production || (process.env.CLOUD_TASKS_EMULATOR_HOST ?? "") !== "";
}

/** The search provider: live Tavily (only ever with a key), the labelled simulation, or none. */
/** The tools the chat model may call, each waiting for approval when `TOOLS_REQUIRING_APPROVAL` names it. */
async function chatTools(parts: {
  config: RuntimeConfig;
  database: DocumentDatabase;
  blobs: BlobStore;
  jobs: JobService;
  grounder: Grounder;
  logger: Logger;
  now: () => number;
}): Promise<ToolRegistry> {
  const [{ ToolRegistry }, { mediaTools }, { httpTool }, { webSearchTool }] = await Promise.all([
    import("../tools/tool-registry.ts"),
    import("../tools/media-tools.ts"),
    import("../tools/http-tools.ts"),
    import("../tools/web-search-tool.ts"),
  ]);
  const { settings, httpTools, toolSecrets } = parts.config;
  const approval = (name: BuiltInTool) => (settings.TOOLS_REQUIRING_APPROVAL.includes(name) ? "always" : "never");
  const downstream = httpTools.map((definition) =>
    httpTool(definition, {
      defaultTimeoutSeconds: settings.FUNCTION_TIMEOUT_SECONDS,
      maxResultBytes: settings.TOOL_RESULT_MAX_BYTES,
      secret: (name) => toolSecrets[name],
    }),
  );
  return new ToolRegistry(
    [
      ...mediaTools({
        jobs: parts.jobs,
        database: parts.database,
        blobs: parts.blobs,
        approval: {
          generate_image: approval("generate_image"),
          edit_image: approval("edit_image"),
          generate_video: approval("generate_video"),
        },
      }),
      ...(parts.grounder.available
        ? [
            webSearchTool({
              grounder: parts.grounder,
              database: parts.database,
              limitPerHour: settings.TAVILY_MAX_QUERIES_PER_HOUR,
              approval: approval("web_search"),
              now: parts.now,
            }),
          ]
        : []),
      ...downstream,
    ],
    parts.logger,
  );
}

async function searchProvider(config: RuntimeConfig): Promise<SearchProvider | undefined> {
  const { settings } = config;
  if (config.providers.tavily === "live" && settings.TAVILY_API_KEY !== undefined) {
    const { TavilySearchProvider } = await import("../providers/tavily/tavily-search-provider.ts");
    return new TavilySearchProvider({
      apiKey: settings.TAVILY_API_KEY,
      ...(settings.TAVILY_ENDPOINT === undefined ? {} : { baseUrl: settings.TAVILY_ENDPOINT }),
      timeoutSeconds: settings.TAVILY_TIMEOUT_SECONDS,
    });
  }
  if (config.providers.tavily === "simulated") {
    const { SimulatedSearchProvider } = await import("../providers/simulated/simulated-search-provider.ts");
    return new SimulatedSearchProvider();
  }
  return undefined;
}

function createLogger(config: RuntimeConfig, sink?: LogSink): Logger {
  const secrets = [...SECRET_SETTINGS.map((name) => config.settings[name]), ...Object.values(config.toolSecrets)];
  return new Logger({
    level: config.settings.LOG_LEVEL,
    redactor: new Redactor(secrets),
    traceProject: config.projectId,
    ...(sink === undefined ? {} : { sink }),
  });
}

/**
 * Service API keys where they are on: always in embedded mode (with a hash secret made in the data folder when
 * none is set), in firebase mode when `API_KEYS_ENABLED`.
 */
async function openApiKeys(
  config: RuntimeConfig,
  database: DocumentDatabase,
  logger: Logger,
  now: () => number,
): Promise<ApiKeys | undefined> {
  const { settings } = config;
  if (config.mode === "firebase" && !settings.API_KEYS_ENABLED) return undefined;
  let hashSecret = settings.API_KEY_HASH_SECRET;
  if (hashSecret === undefined && config.mode === "embedded") {
    const { localSecret } = await import("./local-secret.ts");
    hashSecret = await localSecret(config.embeddedDataDirectory, "api-key-hash-secret");
  }
  if (hashSecret === undefined) return undefined;
  const { ApiKeys } = await import("../auth/api-keys.ts");
  return new ApiKeys({ database, hashSecret, logger, now });
}

/** The base URL of the `api` function, for links it hands out in embedded mode. */
function publicApiUrl(config: RuntimeConfig): string {
  return (
    config.settings.PUBLIC_API_URL ??
    `http://127.0.0.1:5001/${config.projectId}/${config.settings.FUNCTIONS_REGION}/api`
  );
}

const DAY_MS = 86_400_000;

/** `name=value,name=value` (the OTLP headers setting, checked at start-up) as headers. */
function headerPairs(value: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of (value ?? "").split(",")) {
    const at = pair.indexOf("=");
    if (at > 0) headers[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return headers;
}

export async function createServices(config: RuntimeConfig, options: ServiceOptions = {}): Promise<Services> {
  const { settings } = config;
  const logger = createLogger(config, options.logSink);
  const [{ openTelemetry }, app] = await Promise.all([import("../telemetry/open-telemetry.ts"), getAdminApp(config)]);
  const telemetry = await openTelemetry({
    serviceName: "atelier",
    serviceVersion: packageVersion(),
    sampleRatio: settings.TRACE_SAMPLE_RATIO,
    ...(settings.OTEL_EXPORTER_OTLP_ENDPOINT === undefined
      ? {}
      : {
          otlpEndpoint: settings.OTEL_EXPORTER_OTLP_ENDPOINT,
          otlpHeaders: headerPairs(settings.OTEL_EXPORTER_OTLP_HEADERS),
          ...(settings.OTEL_EXPORTER_GOOGLE_AUTH ? { googleProject: config.projectId } : {}),
        }),
    exportIntervalMs: settings.METRICS_EXPORT_INTERVAL_SECONDS * 1000,
    platform: {
      "cloud.region": settings.FUNCTIONS_REGION,
      ...(process.env.K_SERVICE === undefined
        ? {}
        : { "cloud.platform": "gcp_cloud_run", "faas.name": process.env.K_SERVICE }),
      ...(process.env.K_REVISION === undefined ? {} : { "faas.version": process.env.K_REVISION }),
    },
    ...(options.spanExporter === undefined ? {} : { spanExporter: options.spanExporter }),
  });

  let database: DocumentDatabase;
  let blobs: BlobStore;
  let fileBlobs: FileBlobStore | undefined;
  if (config.mode === "embedded") {
    const { openSqliteDocumentDatabase } = await import("../database/sqlite-document-database.ts");
    const { readIndexDefinitions } = await import("../database/index-coverage.ts");
    const { FileBlobStore } = await import("../blobs/file-blob-store.ts");
    database = await openSqliteDocumentDatabase(join(config.embeddedDataDirectory, "atelier.db"), {
      lockTimeoutMs: settings.EMBEDDED_LOCK_TIMEOUT_MS,
      // Queries Firestore could not serve with the deployed indexes fail here too.
      indexes: readIndexDefinitions(),
      ...(options.simulatedContention === undefined ? {} : { simulatedContention: options.simulatedContention }),
    });
    fileBlobs = await FileBlobStore.open({
      root: join(config.embeddedDataDirectory, "media"),
      baseUrl: publicApiUrl(config),
      urlTtlSeconds: settings.MEDIA_URL_TTL_SECONDS,
    });
    blobs = fileBlobs;
  } else {
    const { openFirestoreDocumentDatabase } = await import("../database/firestore-document-database.ts");
    const { openCloudStorageBlobStore } = await import("../blobs/cloud-storage-blob-store.ts");
    database = await openFirestoreDocumentDatabase(app);
    blobs = await openCloudStorageBlobStore(app, config.storageBucket);
  }

  if (options.wrapDatabase !== undefined) database = options.wrapDatabase(database);
  const appCheckMode = settings.APP_CHECK;
  let appCheck: CallerAuthorizationOptions["appCheck"];
  if (appCheckMode !== "off") {
    const { FirebaseAppCheckVerifier } = await import("../auth/app-check-verifier.ts");
    appCheck = { mode: appCheckMode, verifier: new FirebaseAppCheckVerifier(app) };
  }

  const { getAuth } = await import("firebase-admin/auth");
  const { FirebaseIdTokenVerifier, FirebaseAccountDirectory } = await import("../auth/firebase-id-token-verifier.ts");
  const directory = new FirebaseAccountDirectory(getAuth(app));
  const verifier = new FirebaseIdTokenVerifier(getAuth(app), {
    checkRevoked: settings.AUTH_CHECK_REVOKED,
    revocationCacheSeconds: settings.AUTH_REVOCATION_CACHE_SECONDS,
  });

  const now = options.now ?? Date.now;
  const apiKeys = await openApiKeys(config, database, logger, now);
  const { CallerAuthorization } = await import("../auth/caller.ts");
  const callers = new CallerAuthorization({ verifier, apiKeys, appCheck, logger });
  for (const warning of config.modelWarnings) logger.warn("configured model is deprecated", { ...warning });
  const choices = modelChoices(config);
  const pricing = new Pricing(config.prices);
  const budgets: TierBudgets = {
    free: microsOf(settings.BUDGET_FREE_USD),
    paid: microsOf(settings.BUDGET_PAID_USD),
  };
  const activeStreams = new ActiveStreams();
  const [{ ChatService }, { HistoryService }, { Grounder }, { RateLimiter }] = await Promise.all([
    import("../chat/chat-service.ts"),
    import("../chat/history-service.ts"),
    import("../grounding/grounder.ts"),
    import("../ops/rate-limiter.ts"),
  ]);
  const rateLimiter = settings.RATE_LIMIT_ENABLED
    ? new RateLimiter(database, { perMinute: settings.RATE_LIMIT_RPM, burst: settings.RATE_LIMIT_BURST, now })
    : undefined;
  const [{ propagateJobStatus }, { JobLedger }, { JobService }, { JobWorker }, { CleanupService }] = await Promise.all([
    import("../jobs/job-status-propagation.ts"),
    import("../jobs/job-ledger.ts"),
    import("../jobs/job-service.ts"),
    import("../jobs/job-worker.ts"),
    import("../cleanup/cleanup-service.ts"),
  ]);
  const propagate = async (uid: string, job: JobRecord) => {
    await propagateJobStatus(database, uid, job, new Date(now()));
  };
  const ledger = new JobLedger(database, {
    leaseMs: settings.JOB_LEASE_SECONDS * 1000,
    delivery: deliveryBudget(settings),
    now,
    // Firebase mode leaves this to the Firestore trigger; embedded mode has no triggers, so it runs here.
    ...(config.mode === "embedded" ? { afterWrite: propagate } : {}),
    onFinished: (job) => {
      const labels = { "atelier.job.kind": job.kind, "atelier.job.status": job.status };
      telemetry.metrics.jobs.add(1, labels);
      const ended = job.completed_at ?? job.updated_at;
      telemetry.metrics.jobDuration.record((ended.getTime() - job.created_at.getTime()) / 1000, labels);
      const cost = job.usage?.cost_micros ?? 0;
      if (cost > 0) {
        telemetry.metrics.cost.add(cost, {
          "atelier.kind": job.kind === "video" ? "video" : "image",
          "atelier.provider_run": job.provider,
        });
      }
    },
  });
  let queue: TaskQueue;
  let inProcessQueue: import("../queue/in-process-task-queue.ts").InProcessTaskQueue | undefined;
  if (usesCloudTasks(config)) {
    const { CloudTaskQueue } = await import("../queue/cloud-task-queue.ts");
    queue = new CloudTaskQueue(app, {
      region: settings.FUNCTIONS_REGION,
      dispatchDeadlineSeconds: settings.TASK_DISPATCH_DEADLINE_SECONDS,
    });
  } else {
    const { InProcessTaskQueue } = await import("../queue/in-process-task-queue.ts");
    queue = inProcessQueue = new InProcessTaskQueue({ maxAttempts: settings.JOB_MAX_ATTEMPTS });
  }
  const [images, videos] = [options.imageProvider ?? (await imageProvider(config)), await videoProviders(config, now)];
  const jobWorker = new JobWorker({
    ledger,
    blobs,
    queue,
    images,
    videos,
    models: choices,
    pricing,
    telemetry,
    options: {
      image: { maskFeatherPx: settings.EDIT_MASK_FEATHER_PX, thumbnailMaxPx: settings.THUMBNAIL_MAX_PX },
      video: {
        pollIntervalSeconds: settings.VEO_POLL_INTERVAL_SECONDS,
        maxWaitMs: settings.VEO_MAX_WAIT_SECONDS * 1000,
      },
    },
    logger,
    now,
  });
  if (inProcessQueue !== undefined) {
    for (const name of ["imageWorker", "videoWorker"] as const) {
      inProcessQueue.register(name, (task, delivery) => jobWorker.handle(name, task, delivery));
    }
  }
  const jobs = new JobService({
    database,
    blobs,
    queue,
    ledger,
    options: {
      limits: requestLimits(settings),
      quotas: {
        monthly: { free: settings.RATE_LIMIT_FREE, paid: settings.RATE_LIMIT_PAID },
        activeJobsPerUser: settings.RATE_LIMIT_USER_ACTIVE_JOBS,
        activeJobsPerChat: settings.RATE_LIMIT_CONVERSATION_TASKS,
        budgets,
      },
      inputImage: { maxBytes: settings.MAX_IMAGE_SIZE_BYTES, maxDimension: settings.MAX_IMAGE_DIMENSION },
      requestRetentionDays: settings.REQUEST_RETENTION_DAYS,
    },
    logger,
    now,
    models: choices,
    pricing,
    telemetry,
    providers: { image: images?.run, video: (videos.omni ?? videos.veo)?.run },
  });

  const grounder = new Grounder(
    await searchProvider(config),
    { depth: settings.TAVILY_SEARCH_DEPTH, maxResults: settings.TAVILY_MAX_RESULTS },
    telemetry,
  );
  const tools = settings.TOOLS_ENABLED
    ? await chatTools({ config, database, blobs, jobs, grounder, logger, now })
    : undefined;
  const chat = new ChatService({
    database,
    blobs,
    text: new TextModels({
      choices,
      providers:
        options.textProvider === undefined
          ? await textProviders(config)
          : { gemini: options.textProvider, "openai-compatible": options.textProvider },
      thinkingLevel: settings.THINKING_LEVEL,
      maxOutputTokens: settings.MAX_OUTPUT_TOKENS,
      logger,
      telemetry,
    }),
    grounder,
    cost: new AnswerCost(pricing, settings.TAVILY_SEARCH_DEPTH),
    telemetry,
    ...(tools === undefined ? {} : { tools }),
    logger,
    activeStreams,
    options: {
      limits: requestLimits(settings),
      quotas: {
        monthly: { free: settings.RATE_LIMIT_FREE, paid: settings.RATE_LIMIT_PAID },
        budgets,
        groundingPerHour: settings.TAVILY_MAX_QUERIES_PER_HOUR,
      },
      attachmentLimits: { maxBytes: settings.MAX_ATTACHMENT_SIZE_BYTES, maxDimension: settings.MAX_IMAGE_DIMENSION },
      requestRetentionDays: settings.REQUEST_RETENTION_DAYS,
      context: { maxMessages: settings.CONTEXT_MAX_MESSAGES, maxCharacters: settings.CONTEXT_MAX_CHARS },
      systemInstruction: settings.SYSTEM_INSTRUCTION,
      timing: {
        updateIntervalMs: settings.STREAM_UPDATE_INTERVAL_MS,
        staleMs: settings.STALE_STREAM_SECONDS * 1000,
        graceMs: settings.DISCONNECT_GRACE_SECONDS * 1000,
        attachTimeoutMs: settings.RESUME_ATTACH_TIMEOUT_SECONDS * 1000,
      },
      tools: { maxSteps: settings.TOOL_MAX_STEPS, approvalTimeoutMs: settings.APPROVAL_TIMEOUT_SECONDS * 1000 },
    },
    now,
  });

  const [
    { ChatDeletion },
    { UploadService },
    { StreamSlots },
    { StreamAdmission },
    { AccountService },
    { UsageReport },
  ] = await Promise.all([
    import("../chat/chat-deletion.ts"),
    import("../uploads/upload-service.ts"),
    import("../ops/stream-slots.ts"),
    import("../ops/stream-admission.ts"),
    import("../account/account-service.ts"),
    import("../account/usage-report.ts"),
  ]);
  // A lease long enough that renewals (every half) stay rare; a dead instance's slots free within it.
  const streamSlots = new StreamSlots(database, { max: settings.MAX_OPEN_STREAMS_PER_USER, leaseMs: 60_000, now });
  const uploads = new UploadService({
    database,
    blobs,
    now,
    thumbnailMaxPx: settings.THUMBNAIL_MAX_PX,
    limits: {
      perDay: settings.UPLOAD_MAX_PER_DAY,
      bytesPerDay: settings.UPLOAD_MAX_BYTES_PER_DAY,
      maxBytes: settings.MAX_ATTACHMENT_SIZE_BYTES,
      maxDimension: settings.MAX_IMAGE_DIMENSION,
    },
  });
  const chatDeletion = new ChatDeletion({ database, blobs, ledger, now, batchSize: settings.CLEANUP_BATCH_SIZE });

  const accounts = new AccountService({
    database,
    blobs,
    ledger,
    directory,
    verifier,
    logger,
    now,
    batchSize: settings.CLEANUP_BATCH_SIZE,
  });

  return {
    config,
    logger,
    database,
    blobs,
    fileBlobs,
    verifier,
    callers,
    apiKeys,
    version: packageVersion(),
    models: choices,
    activeStreams,
    connections: new ConnectionGauge(
      logger,
      { warning: settings.SSE_CONNECTIONS_WARNING, critical: settings.SSE_CONNECTIONS_CRITICAL },
      telemetry.metrics.sseConnections,
    ),
    telemetry,
    chat,
    history: new HistoryService(database, blobs, { staleStreamMs: settings.STALE_STREAM_SECONDS * 1000, now }),
    jobs,
    jobWorker,
    ledger,
    queue,
    chatDeletion,
    uploads,
    accounts,
    usage: new UsageReport({ database, budgets, now }),
    streamSlots,
    streamAdmission: new StreamAdmission(streamSlots, rateLimiter),
    cleanup: new CleanupService({
      database,
      blobs,
      ledger,
      chatDeletion,
      accounts,
      options: {
        batchSize: settings.CLEANUP_BATCH_SIZE,
        requestRetentionMs: settings.REQUEST_RETENTION_DAYS * DAY_MS,
        staleStreamMs: settings.STALE_STREAM_SECONDS * 1000,
        mediaRetentionMs: settings.MEDIA_RETENTION_DAYS * DAY_MS,
        uploadRetentionMs: settings.UPLOAD_RETENTION_DAYS * DAY_MS,
        delivery: deliveryBudget(settings),
      },
      logger,
      now,
    }),
    propagate,
    rateLimiter,
    now,
    close: async () => {
      await inProcessQueue?.close();
      await database.close();
      await telemetry.shutdown();
    },
  };
}
