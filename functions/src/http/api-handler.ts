import { randomUUID } from "node:crypto";
import type { AppCheckVerifier } from "../auth/app-check-verifier.ts";
import type { AuthenticatedUser, IdTokenVerifier } from "../auth/id-token-verifier.ts";
import { AppError } from "../errors/app-error.ts";
import { toHttpErrorResponse } from "../errors/error-mapping.ts";
import { describeError, type Logger } from "../logging/logger.ts";
import { RequestContext, type RequestHandler } from "./request-context.ts";
import { applySecurityHeaders, CorsPolicy } from "./response-headers.ts";
import { Router, type Route } from "./router.ts";

export interface ApiDependencies {
  readonly logger: Logger;
  readonly verifier: IdTokenVerifier;
  readonly routes: readonly Route[];
  readonly maxRequestBytes: number;
  readonly corsOrigins: readonly (string | undefined)[];
  /** Takes from the per-user rate limit before a rate-limited route runs; throws `resource_exhausted`. */
  readonly rateLimit?: (user: AuthenticatedUser, context: RequestContext) => Promise<void>;
  /**
   * App Check on every signed-in route: `monitor` logs requests without a valid token, `enforce` refuses them
   * with 401.
   */
  readonly appCheck?: { readonly mode: "monitor" | "enforce"; readonly verifier: AppCheckVerifier };
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
    response.once("close", () => logAccess(logger, context));
    if (context.method === "OPTIONS") {
      cors.answerPreflight(response, origin);
      return;
    }
    cors.apply(response, origin);
    try {
      const match = router.match(context.method, context.path);
      if (match === undefined) throw new AppError("not_found", `No route for ${context.method} ${context.path}.`);
      context.params = match.params;
      if (match.route.access !== "public") {
        context.user = await authenticate(context, dependencies.verifier);
        if (dependencies.appCheck !== undefined) await checkApp(context, dependencies.appCheck, logger);
        if (match.route.access === "admin" && !context.user.admin) {
          throw new AppError("permission_denied", "This route needs an admin account.");
        }
        if (match.route.rateLimited === true && dependencies.rateLimit !== undefined) {
          await dependencies.rateLimit(context.user, context);
        }
      }
      await match.route.handle(context);
    } catch (error) {
      respondWithError(logger, context, error);
    }
  };
}

async function authenticate(context: RequestContext, verifier: IdTokenVerifier): Promise<AuthenticatedUser> {
  const header = context.header("authorization") ?? "";
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (match?.[1] === undefined) {
    throw new AppError("unauthenticated", "Send a Firebase ID token as 'Authorization: Bearer <token>'.");
  }
  return verifier.verify(match[1]);
}

async function checkApp(
  context: RequestContext,
  appCheck: NonNullable<ApiDependencies["appCheck"]>,
  logger: Logger,
): Promise<void> {
  const token = context.header("x-firebase-appcheck");
  let problem: string | undefined;
  if (token === undefined || token === "") problem = "missing";
  else {
    try {
      await appCheck.verifier.verify(token);
    } catch {
      problem = "invalid";
    }
  }
  if (problem === undefined) return;
  logger.warn("app check failed", { request_id: context.requestId, path: context.path, problem, mode: appCheck.mode });
  if (appCheck.mode === "enforce") {
    throw new AppError("unauthenticated", "This app is not verified (App Check token missing or invalid).");
  }
}

export function respondWithError(logger: Logger, context: RequestContext, error: unknown): void {
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
    uid: context.user === undefined ? "anon" : "auth",
    ...context.logFields,
  });
}
