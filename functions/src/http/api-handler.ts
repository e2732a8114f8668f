import { context as otelContext, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { Telemetry } from "../telemetry/telemetry.ts";
import { randomUUID } from "node:crypto";
import type { Caller, CallerAuthorization } from "../auth/caller.ts";
import { AppError } from "../errors/app-error.ts";
import { toHttpErrorResponse } from "../errors/error-mapping.ts";
import { describeError, type Logger } from "../logging/logger.ts";
import { RequestContext, type RequestHandler } from "./request-context.ts";
import { applySecurityHeaders, CorsPolicy } from "./response-headers.ts";
import { Router, type Route } from "./router.ts";

interface ApiDependencies {
  readonly logger: Logger;
  readonly callers: CallerAuthorization;
  readonly routes: readonly Route[];
  readonly maxRequestBytes: number;
  readonly corsOrigins: readonly (string | undefined)[];
  /** Takes from the caller's rate limit before a rate-limited route runs; throws `resource_exhausted`. */
  readonly rateLimit?: (caller: Caller) => Promise<void>;
  /** A span per request (joining the caller's trace when it sends `traceparent`) and the request metrics. */
  readonly telemetry: Telemetry;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's own `X-Request-Id` when it is well-formed, else a fresh one. */
export function chooseRequestId(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && REQUEST_ID.test(value) ? value : `req-${randomUUID()}`;
}

/**
 * The `api` function's request pipeline: request id, security headers, CORS, routing, auth, limits, the route,
 * and the one place where a thrown error becomes the contract's envelope. One access log line per request.
 */
export function createApiHandler(dependencies: ApiDependencies): RequestHandler {
  const router = new Router(dependencies.routes);
  const cors = new CorsPolicy(dependencies.corsOrigins);
  const { logger } = dependencies;

  return async (request, response) => {
    const context = new RequestContext(
      request,
      response,
      chooseRequestId(request.headers["x-request-id"]),
      dependencies.maxRequestBytes,
    );
    applySecurityHeaders(response, context.requestId);
    const origin = context.header("origin");
    const match = router.match(context.method, context.path);
    // The route's template, never the path itself (ids in paths would make every request its own series).
    const route = match?.route.path ?? "unmatched";
    const { tracer, metrics } = dependencies.telemetry;
    const span = tracer.startSpan(
      `${context.method} ${route}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          "http.request.method": context.method,
          "http.route": route,
          "atelier.request_id": context.requestId,
        },
      },
      dependencies.telemetry.extract(request.headers),
    );
    const traced = trace.setSpan(otelContext.active(), span);
    response.once(
      "close",
      otelContext.bind(traced, () => {
        const status = response.statusCode;
        span.setAttribute("http.response.status_code", status);
        if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
        metrics.httpDuration.record((performance.now() - context.startedAt) / 1000, {
          "http.request.method": context.method,
          "http.route": route,
          "http.response.status_code": status,
        });
        logAccess(logger, context);
      }),
    );
    if (context.method === "OPTIONS") {
      cors.answerPreflight(response, origin);
      return;
    }
    cors.apply(response, origin);
    await otelContext.with(traced, () => handle(context, match));
  };

  async function handle(context: RequestContext, match: ReturnType<Router["match"]>): Promise<void> {
    try {
      if (match === undefined) throw new AppError("not_found", `No route for ${context.method} ${context.path}.`);
      context.params = match.params;
      if (match.route.access !== "public") {
        context.user = await dependencies.callers.authorize(
          {
            authorization: context.header("authorization"),
            apiKey: context.header("x-api-key"),
            appCheck: { token: context.header("x-firebase-appcheck") },
            where: context.path,
            requestId: context.requestId,
          },
          match.route.access,
        );
        if (match.route.rateLimited === true && dependencies.rateLimit !== undefined) {
          await dependencies.rateLimit(context.user);
        }
      }
      await match.route.handle(context);
    } catch (error) {
      respondWithError(logger, context, error);
    }
  }
}

function respondWithError(logger: Logger, context: RequestContext, error: unknown): void {
  const { status, headers, body } = toHttpErrorResponse(error, context.requestId);
  if (status >= 500) {
    logger.error("request failed", {
      request_id: context.requestId,
      path: context.path,
      method: context.method,
      status_code: status,
      ...describeError(error),
    });
  }
  if (context.response.headersSent) {
    // A stream had started: its own terminal event was the answer. Just close.
    if (!context.response.writableEnded) context.response.end();
    return;
  }
  context.sendJson(status, body, headers);
}

function logAccess(logger: Logger, context: RequestContext): void {
  logger.info("request", {
    path: context.path,
    method: context.method,
    status_code: context.response.statusCode,
    latency: Math.round(performance.now() - context.startedAt) / 1000,
    request_id: context.requestId,
    uid: context.user === undefined ? "anon" : context.user.kind === "service" ? "service" : "auth",
    ...context.logFields,
  });
}
