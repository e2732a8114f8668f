import type { Services } from "../runtime/services.ts";
import { createApiHandler } from "./api-handler.ts";
import type { RequestHandler } from "./request-context.ts";
import type { Route } from "./router.ts";
import { accountRoutes } from "./routes/account-routes.ts";
import { adminRoutes } from "./routes/admin-routes.ts";
import { chatRoutes } from "./routes/chat-routes.ts";
import { historyRoutes } from "./routes/history-routes.ts";
import { jobRoutes } from "./routes/job-routes.ts";
import { healthRoutes } from "./routes/health-routes.ts";
import { mediaRoutes } from "./routes/media-routes.ts";
import { modelRoutes } from "./routes/model-routes.ts";
import { uploadRoutes } from "./routes/upload-routes.ts";

/** Every route of the `api` function. */
export function apiRoutes(services: Services): Route[] {
  return [
    ...healthRoutes(services),
    ...accountRoutes(services.accounts),
    ...modelRoutes(services.models, { videoMaxSeconds: services.config.settings.VIDEO_MAX_DURATION_SECONDS }),
    ...chatRoutes(services.chat, services.config.settings, services.connections, services.streamSlots),
    ...historyRoutes(services.history, services.chatDeletion),
    ...jobRoutes(services.jobs, services.blobs),
    ...uploadRoutes(services.uploads),
    ...adminRoutes(services.cleanup),
    ...(services.fileBlobs === undefined ? [] : mediaRoutes(services.fileBlobs)),
  ];
}

/** The `api` function's handler over a set of services. */
export function createApi(services: Services): RequestHandler {
  const { settings } = services.config;
  return createApiHandler({
    logger: services.logger,
    verifier: services.verifier,
    routes: apiRoutes(services),
    maxRequestBytes: settings.MAX_REQUEST_BYTES,
    corsOrigins: [settings.FRONTEND_ORIGIN, ...settings.CORS_ALLOWED_ORIGINS],
    ...(services.appCheck === undefined ? {} : { appCheck: services.appCheck }),
    ...(services.rateLimiter === undefined
      ? {}
      : { rateLimit: (user) => services.rateLimiter?.consume(user.uid) ?? Promise.resolve() }),
  });
}
