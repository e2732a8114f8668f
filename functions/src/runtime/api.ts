import type { Services } from "./services.ts";
import { createApiHandler } from "../http/api-handler.ts";
import type { RequestHandler } from "../http/request-context.ts";
import type { Route } from "../http/router.ts";
import { accountRoutes } from "../http/routes/account-routes.ts";
import { adminRoutes } from "../http/routes/admin-routes.ts";
import { apiKeyRoutes } from "../http/routes/api-key-routes.ts";
import { chatRoutes } from "../http/routes/chat-routes.ts";
import { historyRoutes } from "../http/routes/history-routes.ts";
import { jobRoutes } from "../http/routes/job-routes.ts";
import { healthRoutes } from "../http/routes/health-routes.ts";
import { mediaRoutes } from "../http/routes/media-routes.ts";
import { modelRoutes } from "../http/routes/model-routes.ts";
import { uploadRoutes } from "../http/routes/upload-routes.ts";
import { usageRoutes } from "../http/routes/usage-routes.ts";
import { metricsRoutes } from "../http/routes/metrics-routes.ts";

/** Every route of the `api` function. */
function apiRoutes(services: Services): Route[] {
  return [
    ...healthRoutes(services),
    ...accountRoutes(services.accounts),
    ...modelRoutes(services.models, { videoMaxSeconds: services.config.settings.VIDEO_MAX_DURATION_SECONDS }),
    ...chatRoutes(
      services.chat,
      { heartbeatSeconds: services.config.settings.SSE_HEARTBEAT_SECONDS },
      services.connections,
      services.streamSlots,
      services.streamAdmission,
    ),
    ...historyRoutes(services.history, services.chatDeletion),
    ...jobRoutes(services.jobs, services.blobs),
    ...uploadRoutes(services.uploads),
    ...adminRoutes(services.cleanup),
    ...usageRoutes(services.usage, services.config.providers.gemini === "simulated" ? "simulated" : "live"),
    ...apiKeyRoutes(services.apiKeys),
    ...metricsRoutes(services.telemetry),
    ...(services.fileBlobs === undefined ? [] : mediaRoutes(services.fileBlobs)),
  ];
}

/** The `api` function's handler over a set of services. */
export function createApi(services: Services): RequestHandler {
  const { settings } = services.config;
  return createApiHandler({
    logger: services.logger,
    callers: services.callers,
    routes: apiRoutes(services),
    maxRequestBytes: settings.MAX_REQUEST_BYTES,
    telemetry: services.telemetry,
    corsOrigins: [settings.FRONTEND_ORIGIN, ...settings.CORS_ALLOWED_ORIGINS],
    ...(services.rateLimiter === undefined
      ? {}
      : { rateLimit: (caller) => services.rateLimiter?.consume(caller.uid) ?? Promise.resolve() }),
  });
}
