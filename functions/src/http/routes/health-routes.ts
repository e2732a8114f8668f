import type { BlobStore } from "../../blobs/blob-store.ts";
import type { ConfiguredProvider, RuntimeConfig } from "../../config/runtime-config.ts";
import type { DocumentDatabase } from "../../database/document-database.ts";
import type { Logger } from "../../logging/logger.ts";
import type { Route } from "../router.ts";
import type { Health } from "../../contract/resources.ts";

interface HealthDependencies {
  readonly config: RuntimeConfig;
  readonly database: DocumentDatabase;
  readonly blobs: BlobStore;
  readonly logger: Logger;
  readonly version: string;
}

/** Resolves true when `probe` succeeds within `timeoutMs`. */
async function answers(probe: () => Promise<void>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `GET /health` (the shape in docs/api.md, with the mode and provider modes), `GET /readyz` (the same, for probes) and
 * `GET /healthz` (liveness: no dependency is touched). A provider is `true` in `services` only when its live
 * service is configured; `providers` says which ones run simulated.
 */
export function healthRoutes(dependencies: HealthDependencies): Route[] {
  const { config } = dependencies;
  const timeoutMs = config.settings.HEALTH_CHECK_TIMEOUT_MS;
  const providerNames: readonly ConfiguredProvider[] = ["gemini", "nano_banana", "veo", "tavily"];

  const readiness: Route["handle"] = async (context) => {
    const [database, storage] = await Promise.all([
      answers(() => dependencies.database.ping(), timeoutMs),
      answers(() => dependencies.blobs.ping(), timeoutMs),
    ]);
    const ok = database && storage;
    if (!ok) dependencies.logger.warn("health check failed", { firestore: database, storage });
    const services: Record<string, boolean> = { firestore: database, storage };
    for (const name of providerNames) services[name] = config.providers[name] === "live";
    context.sendJson(ok ? 200 : 503, {
      ok,
      services,
      mode: config.mode,
      providers: config.providers,
      version: dependencies.version,
    } satisfies Health);
  };

  return [
    { method: "GET", path: "/health", access: "public", handle: readiness },
    { method: "GET", path: "/readyz", access: "public", handle: readiness },
    {
      method: "GET",
      path: "/healthz",
      access: "public",
      handle: (context) => {
        context.sendJson(200, { ok: true });
        return Promise.resolve();
      },
    },
  ];
}
