import { AppError, isAppError } from "./app-error.ts";
import type { ErrorCode, ErrorEnvelope } from "../contract/error-codes.ts";

/**
 * The single place where errors become what a client sees. Anything that is not an {@link AppError} is a bug:
 * it becomes a generic `internal` error whose text says nothing about the cause.
 */

const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  invalid_argument: 400,
  unauthenticated: 401,
  permission_denied: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  resource_exhausted: 429,
  internal: 500,
  unavailable: 503,
  blocked: 422,
  aborted: 409,
};

/** The codes the Firebase callable protocol knows, for the same errors. */
const CALLABLE_CODE: Readonly<Record<ErrorCode, string>> = {
  invalid_argument: "invalid-argument",
  unauthenticated: "unauthenticated",
  permission_denied: "permission-denied",
  not_found: "not-found",
  conflict: "already-exists",
  payload_too_large: "invalid-argument",
  unsupported_media_type: "invalid-argument",
  resource_exhausted: "resource-exhausted",
  internal: "internal",
  unavailable: "unavailable",
  blocked: "failed-precondition",
  aborted: "aborted",
};

const GENERIC_INTERNAL_MESSAGE = "Something went wrong on our side. Please try again.";

/** Turns anything thrown into an AppError the client may see. */
export function toAppError(error: unknown): AppError {
  if (isAppError(error)) return error;
  return new AppError("internal", GENERIC_INTERNAL_MESSAGE, { cause: error });
}

interface HttpErrorResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: ErrorEnvelope;
}

export function toHttpErrorResponse(error: unknown, requestId: string): HttpErrorResponse {
  const appError = toAppError(error);
  const headers: Record<string, string> = {};
  if (appError.retryAfterSeconds !== undefined) headers["Retry-After"] = String(appError.retryAfterSeconds);
  return {
    status: appError.httpStatus ?? HTTP_STATUS[appError.code],
    headers,
    body: {
      ok: false,
      error: {
        code: appError.code,
        message: appError.message,
        ...(appError.details === undefined ? {} : { details: { ...appError.details } }),
      },
      request_id: requestId,
    },
  };
}

/** Arguments for a callable `HttpsError` (kept free of firebase-functions so this module stays plain). */
export function toCallableError(error: unknown): {
  code: string;
  message: string;
  details: Record<string, unknown>;
} {
  const appError = toAppError(error);
  return {
    code: CALLABLE_CODE[appError.code],
    message: appError.message,
    details: {
      code: appError.code,
      ...(appError.details ?? {}),
      ...(appError.retryAfterSeconds === undefined ? {} : { retry_after_seconds: appError.retryAfterSeconds }),
    },
  };
}
