import { join } from "node:path";
import type { IdTokenVerifier } from "../auth/id-token-verifier.ts";
import { ActiveStreams } from "../chat/active-streams.ts";
import type { ChatService } from "../chat/chat-service.ts";
import type { HistoryService } from "../chat/history-service.ts";
import type { BlobStore } from "../blobs/blob-store.ts";
import type { FileBlobStore } from "../blobs/file-blob-store.ts";
import { allowedModels, type RuntimeConfig } from "../config/runtime-config.ts";
import { SECRET_SETTINGS } from "../config/settings.ts";
import type { DocumentDatabase } from "../database/document-database.ts";
import { Logger, Redactor, type LogSink } from "../logging/logger.ts";
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
  readonly version: string;
  readonly activeStreams: ActiveStreams;
  readonly chat: ChatService;
  readonly history: HistoryService;
  /** Per-user request rate limit on generating routes; undefined when `RATE_LIMIT_ENABLED` is false. */
  readonly rateLimiter: RateLimiter | undefined;
  readonly now: () => number;
  close(): Promise<void>;
}

export interface ServiceOptions {
  /** Where log lines go (tests capture them). */
  readonly logSink?: LogSink;
  /** The clock (tests move it). */
  readonly now?: () => number;
  /** Wraps the data port, e.g. to count writes in tests and benchmarks. */
  readonly wrapDatabase?: (database: DocumentDatabase) => DocumentDatabase;
}

/** The text provider for the configured mode: live Gemini, the labelled simulation, or none. */
async function textProvider(config: RuntimeConfig): Promise<TextProvider | undefined> {
  const { settings } = config;
  if (config.providers.gemini === "live" && settings.GEMINI_API_KEY !== undefined) {
    const { GeminiTextProvider } = await import("../providers/gemini-text-provider.ts");
    return new GeminiTextProvider({
      apiKey: settings.GEMINI_API_KEY,
      ...(settings.GEMINI_ENDPOINT === undefined ? {} : { baseUrl: settings.GEMINI_ENDPOINT }),
      timeoutMs: settings.PROVIDER_TIMEOUT_SECONDS * 1000,
    });
  }
  if (config.providers.gemini === "simulated") {
    const { SimulatedTextProvider } = await import("../providers/simulated-text-provider.ts");
    return new SimulatedTextProvider({ tokenDelayMs: settings.SIMULATED_TOKEN_DELAY_MS });
  }
  return undefined;
}

/** The search provider: live Tavily (only ever with a key), the labelled simulation, or none. */
async function searchProvider(config: RuntimeConfig): Promise<SearchProvider | undefined> {
  const { settings } = config;
  if (config.providers.tavily === "live" && settings.TAVILY_API_KEY !== undefined) {
    const { TavilySearchProvider } = await import("../providers/tavily-search-provider.ts");
    return new TavilySearchProvider({
      apiKey: settings.TAVILY_API_KEY,
      ...(settings.TAVILY_ENDPOINT === undefined ? {} : { baseUrl: settings.TAVILY_ENDPOINT }),
      timeoutSeconds: settings.TAVILY_TIMEOUT_SECONDS,
    });
  }
  if (config.providers.tavily === "simulated") {
    const { SimulatedSearchProvider } = await import("../providers/simulated-search-provider.ts");
    return new SimulatedSearchProvider();
  }
  return undefined;
}

export function createLogger(config: RuntimeConfig, sink?: LogSink): Logger {
  const secrets = SECRET_SETTINGS.map((name) => config.settings[name]);
  return new Logger({
    level: config.settings.LOG_LEVEL,
    redactor: new Redactor(secrets),
    ...(sink === undefined ? {} : { sink }),
  });
}

/** The base URL of the `api` function, for links it hands out in embedded mode. */
export function publicApiUrl(config: RuntimeConfig): string {
  return (
    config.settings.PUBLIC_API_URL ??
    `http://127.0.0.1:5001/${config.projectId}/${config.settings.FUNCTIONS_REGION}/api`
  );
}

export async function createServices(config: RuntimeConfig, options: ServiceOptions = {}): Promise<Services> {
  const { settings } = config;
  const logger = createLogger(config, options.logSink);
  const app = await getAdminApp(config);

  let database: DocumentDatabase;
  let blobs: BlobStore;
  let fileBlobs: FileBlobStore | undefined;
  if (config.mode === "embedded") {
    const { openSqliteDocumentDatabase } = await import("../database/sqlite-document-database.ts");
    const { FileBlobStore } = await import("../blobs/file-blob-store.ts");
    database = await openSqliteDocumentDatabase(join(config.embeddedDataDirectory, "atelier.db"), {
      lockTimeoutMs: settings.EMBEDDED_LOCK_TIMEOUT_MS,
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

  const { getAuth } = await import("firebase-admin/auth");
  const { FirebaseIdTokenVerifier } = await import("../auth/firebase-id-token-verifier.ts");
  const verifier = new FirebaseIdTokenVerifier(getAuth(app), {
    checkRevoked: settings.AUTH_CHECK_REVOKED,
    revocationCacheSeconds: settings.AUTH_REVOCATION_CACHE_SECONDS,
  });

  const now = options.now ?? Date.now;
  const activeStreams = new ActiveStreams();
  const [{ ChatService }, { HistoryService }, { Grounder }, { RateLimiter }] = await Promise.all([
    import("../chat/chat-service.ts"),
    import("../chat/history-service.ts"),
    import("../grounding/grounder.ts"),
    import("../ops/rate-limiter.ts"),
  ]);
  const chat = new ChatService({
    database,
    blobs,
    text: await textProvider(config),
    grounder: new Grounder(await searchProvider(config), settings),
    logger,
    activeStreams,
    settings,
    allowedModels: allowedModels(settings),
    now,
  });

  return {
    config,
    logger,
    database,
    blobs,
    fileBlobs,
    verifier,
    version: packageVersion(),
    activeStreams,
    chat,
    history: new HistoryService(database, blobs),
    rateLimiter: settings.RATE_LIMIT_ENABLED
      ? new RateLimiter(database, { perMinute: settings.RATE_LIMIT_RPM, burst: settings.RATE_LIMIT_BURST, now })
      : undefined,
    now,
    close: () => database.close(),
  };
}
