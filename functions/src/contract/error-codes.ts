/**
 * The error codes of the API's envelope, the SSE `error` event and the callable's `details.code`. The HTTP status
 * each maps to is the error mapping's to decide; the codes themselves are part of the wire contract.
 */
export type ErrorCode =
  | "invalid_argument"
  | "unauthenticated"
  | "permission_denied"
  | "not_found"
  | "conflict"
  | "payload_too_large"
  | "unsupported_media_type"
  | "resource_exhausted"
  | "internal"
  | "unavailable"
  /** Stream-only: the model refused for safety reasons. */
  | "blocked"
  /** Stream-only: the message was stopped or abandoned before it finished. */
  | "aborted";

/** Every error response: `{"ok": false, "error": {...}, "request_id"}`. */
export interface ErrorEnvelope {
  readonly ok: false;
  readonly error: {
    readonly code: ErrorCode;
    readonly message: string;
    readonly details?: Readonly<Record<string, unknown>>;
  };
  readonly request_id: string;
}
