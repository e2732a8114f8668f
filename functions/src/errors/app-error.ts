import type { ErrorCode } from "../contract/error-codes.ts";

/**
 * The one error type services throw. Its `code` is the contract's error code; transports (HTTP envelope, SSE
 * `error` event, callable HttpsError) map it in `error-mapping.ts` and nowhere else. The `message` must be safe
 * to show a user: it never carries provider text, keys, stack traces or prompt content.
 */
interface AppErrorOptions {
  /** Extra structured facts for the client, e.g. `{ fields: {...} }`. Must be safe to show. */
  readonly details?: Readonly<Record<string, unknown>>;
  /** For `resource_exhausted`: when the caller may try again. */
  readonly retryAfterSeconds?: number;
  /** The underlying error, for logs only. */
  readonly cause?: unknown;
  /** Overrides the HTTP status the code maps to (e.g. 502 for a provider's bad answer). */
  readonly httpStatus?: number;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly httpStatus: number | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AppError";
    this.code = code;
    this.details = options.details;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.httpStatus = options.httpStatus;
  }
}

/** Field-level validation problems, keyed by field path (`attachments.0.path`). */
export type FieldProblems = Readonly<Record<string, string>>;

export function invalidArgument(message: string, fields?: FieldProblems): AppError {
  return new AppError("invalid_argument", message, fields === undefined ? {} : { details: { fields } });
}

export function notFound(what: string): AppError {
  return new AppError("not_found", `${what} not found.`);
}

export function resourceExhausted(message: string, retryAfterSeconds: number, details?: Record<string, unknown>) {
  return new AppError("resource_exhausted", message, {
    retryAfterSeconds: Math.max(1, Math.ceil(retryAfterSeconds)),
    ...(details === undefined ? {} : { details }),
  });
}

export function unavailable(message: string, cause?: unknown): AppError {
  return new AppError("unavailable", message, { cause });
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
