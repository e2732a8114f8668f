import type { ServerResponse } from "node:http";

/**
 * Headers every response carries, and CORS for the configured origins only. Set before the route runs, so
 * even a 404 or a crash answers with them.
 */

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
  "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
  "Cache-Control": "no-store",
};

const ALLOWED_METHODS = "GET, POST, DELETE, OPTIONS";
const ALLOWED_HEADERS =
  "Authorization, Content-Type, Idempotency-Key, Last-Event-ID, X-Request-Id, X-Firebase-AppCheck";
const EXPOSED_HEADERS = "X-Request-Id, Retry-After";
const PREFLIGHT_MAX_AGE_SECONDS = "600";

export function applySecurityHeaders(response: ServerResponse, requestId: string): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.setHeader(name, value);
  response.setHeader("X-Request-Id", requestId);
}

export class CorsPolicy {
  readonly #origins: ReadonlySet<string>;

  constructor(origins: Iterable<string | undefined>) {
    this.#origins = new Set(
      [...origins].filter((origin): origin is string => origin !== undefined && origin !== "").map(normaliseOrigin),
    );
  }

  allows(origin: string): boolean {
    return this.#origins.has("*") || this.#origins.has(normaliseOrigin(origin));
  }

  /** Adds CORS headers for an allowed origin; for others adds nothing, so the browser refuses the response. */
  apply(response: ServerResponse, origin: string | undefined): void {
    response.setHeader("Vary", "Origin");
    if (origin === undefined || !this.allows(origin)) return;
    response.setHeader("Access-Control-Allow-Origin", origin);
    response.setHeader("Access-Control-Expose-Headers", EXPOSED_HEADERS);
  }

  /** Answers a preflight request in full. */
  answerPreflight(response: ServerResponse, origin: string | undefined): void {
    this.apply(response, origin);
    if (origin !== undefined && this.allows(origin)) {
      response.setHeader("Access-Control-Allow-Methods", ALLOWED_METHODS);
      response.setHeader("Access-Control-Allow-Headers", ALLOWED_HEADERS);
      response.setHeader("Access-Control-Max-Age", PREFLIGHT_MAX_AGE_SECONDS);
    }
    response.writeHead(204).end();
  }
}

function normaliseOrigin(origin: string): string {
  return origin.trim().replace(/\/+$/, "").toLowerCase();
}
