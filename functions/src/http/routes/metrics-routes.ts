import type { Telemetry } from "../../telemetry/telemetry.ts";
import type { Route } from "../router.ts";

/**
 * `GET /metrics` (admin): this instance's metrics in Prometheus' text format, for a Prometheus (or the local
 * stack) to scrape. Each instance answers for itself; across instances, export with OTLP instead.
 */
export function metricsRoutes(telemetry: Telemetry): Route[] {
  return [
    {
      method: "GET",
      path: "/metrics",
      access: "admin",
      handle: async (context) => {
        const body = await telemetry.prometheus();
        context.response.writeHead(200, {
          "Content-Type": "text/plain; version=0.0.4; charset=utf-8",
          "Cache-Control": "no-store",
        });
        context.response.end(body);
      },
    },
  ];
}
