import { AppError } from "../errors/app-error.ts";

/**
 * How a provider call failed, in terms the rest of the code can act on. `retryable` failures may be tried
 * again (before the first token, or by Cloud Tasks for a job); the others are final. The message of a
 * ProviderError is for logs; what a user sees comes from {@link ProviderError.toAppError}, which never
 * includes the provider's own text.
 */
export type ProviderFailure =
  /** The provider refused for safety reasons (prompt or output). */
  | "blocked"
  /** 429: quota or rate limit. */
  | "rate_limited"
  /** 5xx, network trouble, a broken stream. */
  | "unavailable"
  /** No progress within the timeout. */
  | "timeout"
  /** The provider refused the request as invalid (4xx other than 429), including a bad key or model. */
  | "rejected"
  /** We cancelled the call. */
  | "aborted";

const RETRYABLE: ReadonlySet<ProviderFailure> = new Set(["rate_limited", "unavailable", "timeout"]);

export type ProviderName = "gemini" | "nano_banana" | "veo" | "omni" | "openai_compatible" | "tavily";

const SERVICE_NAME: Readonly<Record<ProviderName, string>> = {
  gemini: "The text model",
  openai_compatible: "The text model",
  nano_banana: "The image model",
  veo: "The video model",
  omni: "The video model",
  tavily: "Web search",
};

export class ProviderError extends Error {
  readonly provider: ProviderName;
  readonly failure: ProviderFailure;
  readonly status: number | undefined;
  readonly retryAfterSeconds: number | undefined;
  /** For blocked results: the provider's reason code (e.g. `SAFETY`), safe to show. */
  readonly reason: string | undefined;
  readonly #retryable: boolean | undefined;

  constructor(
    provider: ProviderName,
    failure: ProviderFailure,
    message: string,
    options: {
      status?: number;
      retryAfterSeconds?: number;
      reason?: string;
      cause?: unknown;
      /**
       * Overrides whether asking again can help: a long-running operation that ended failed stays failed,
       * however often it is polled, even when the failure is the service's.
       */
      retryable?: boolean;
    } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ProviderError";
    this.provider = provider;
    this.failure = failure;
    this.status = options.status;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.reason = options.reason;
    this.#retryable = options.retryable;
  }

  get retryable(): boolean {
    return this.#retryable ?? RETRYABLE.has(this.failure);
  }

  /**
   * Whether another model may succeed where this one failed: the retryable failures, and a model the provider
   * no longer knows (404: shut down, or not offered to this key). A safety block or a refused request would be
   * refused by the next model too.
   */
  get fallbackWorthy(): boolean {
    return this.retryable || (this.failure === "rejected" && this.status === 404);
  }

  /**
   * What logs may say about this failure. Not the cause: a provider's error body can quote the prompt back,
   * so only its error status name (e.g. `RESOURCE_EXHAUSTED`) is kept.
   */
  toLogFields(): Record<string, unknown> {
    const body = this.cause instanceof Error ? this.cause.message : "";
    const statusName = /"status"\s*:\s*"([A-Z_]+)"/.exec(body)?.[1];
    return {
      error_name: this.name,
      error_message: this.message,
      provider: this.provider,
      failure: this.failure,
      ...(this.status === undefined ? {} : { provider_status: this.status }),
      ...(statusName === undefined ? {} : { provider_error: statusName }),
      ...(this.reason === undefined ? {} : { reason: this.reason }),
    };
  }

  /** What the client sees: a contract code and a message that says what happened, not how. */
  toAppError(): AppError {
    const service = SERVICE_NAME[this.provider];
    switch (this.failure) {
      case "blocked":
        return new AppError(
          "blocked",
          "The request was blocked by the model's safety filters. Try rephrasing it.",
          this.reason === undefined ? { cause: this } : { cause: this, details: { reason: this.reason } },
        );
      case "aborted":
        return new AppError("aborted", "The request was stopped.", { cause: this });
      case "rate_limited":
        return new AppError("unavailable", `${service} is busy right now. Please try again shortly.`, {
          cause: this,
          ...(this.retryAfterSeconds === undefined ? {} : { details: { retry_after_seconds: this.retryAfterSeconds } }),
        });
      case "timeout":
        return new AppError("unavailable", `${service} took too long to answer. Please try again.`, { cause: this });
      case "rejected":
        return new AppError("unavailable", `${service} could not process this request.`, {
          cause: this,
          httpStatus: 502,
        });
      case "unavailable":
        return new AppError("unavailable", `${service} is unavailable right now. Please try again.`, {
          cause: this,
          httpStatus: 502,
        });
    }
  }
}

export function isProviderError(error: unknown): error is ProviderError {
  return error instanceof ProviderError;
}
