import { ConfigurationError, loadRuntimeConfig } from "../config/runtime-config.ts";
import { Logger } from "../logging/logger.ts";
import { shutDownOnSigterm } from "./graceful-shutdown.ts";
import { createServices, type Services } from "./services.ts";

let services: Promise<Services> | undefined;

/**
 * This process's services, built on first use. A configuration that cannot run is logged once as one grouped
 * JSON line (names only, never values) and every later call fails the same way at once; any other start-up
 * failure is retried on the next call.
 */
export function processServices(): Promise<Services> {
  services ??= (async () => {
    const built = await createServices(loadRuntimeConfig(process.env));
    shutDownOnSigterm(built.activeStreams, built.logger, built.config.settings.SHUTDOWN_GRACE_SECONDS, built.telemetry);
    return built;
  })().catch((error: unknown) => {
    if (error instanceof ConfigurationError) {
      new Logger().error("configuration invalid", error.toJSON());
    } else {
      services = undefined;
    }
    throw error;
  });
  return services;
}
