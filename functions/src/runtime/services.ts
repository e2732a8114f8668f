import { join } from "node:path";
import type { IdTokenVerifier } from "../auth/id-token-verifier.ts";
import type { BlobStore } from "../blobs/blob-store.ts";
import type { FileBlobStore } from "../blobs/file-blob-store.ts";
import type { RuntimeConfig } from "../config/runtime-config.ts";
import { SECRET_SETTINGS } from "../config/settings.ts";
import type { DocumentDatabase } from "../database/document-database.ts";
import { Logger, Redactor, type LogSink } from "../logging/logger.ts";
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
  close(): Promise<void>;
}

export interface ServiceOptions {
  /** Where log lines go (tests capture them). */
  readonly logSink?: LogSink;
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

  const { getAuth } = await import("firebase-admin/auth");
  const { FirebaseIdTokenVerifier } = await import("../auth/firebase-id-token-verifier.ts");
  const verifier = new FirebaseIdTokenVerifier(getAuth(app), {
    checkRevoked: settings.AUTH_CHECK_REVOKED,
    revocationCacheSeconds: settings.AUTH_REVOCATION_CACHE_SECONDS,
  });

  return {
    config,
    logger,
    database,
    blobs,
    fileBlobs,
    verifier,
    version: packageVersion(),
    close: () => database.close(),
  };
}
