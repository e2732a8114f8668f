import { ProviderError, type ProviderName } from "../provider-error.ts";

/**
 * How every Google adapter reads a failure: the HTTP status the SDK reports (429 rate limited, 5xx unavailable,
 * other 4xx rejected), our own timeouts and aborts, and anything else (network, broken streams) as unavailable.
 */

/** The `retryDelay` the API suggests in a 429 body (`"53s"`), in seconds. */
function suggestedRetryDelay(message: string): number | undefined {
  const match = /"retryDelay"\s*:\s*"(\d+(?:\.\d+)?)s"/.exec(message);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** Maps anything the SDK throws to a ProviderError. `timedOut` and `signal` tell our own aborts apart. */
export function classifyGeminiError(
  provider: ProviderName,
  error: unknown,
  context: { timedOut: boolean; callerSignal?: AbortSignal },
): ProviderError {
  if (error instanceof ProviderError) return error;
  if (context.timedOut)
    return new ProviderError(provider, "timeout", "No progress within the timeout", { cause: error });
  if (context.callerSignal?.aborted === true)
    return new ProviderError(provider, "aborted", "Cancelled", { cause: error });
  const status =
    typeof error === "object" && error !== null && "status" in error && typeof error.status === "number"
      ? error.status
      : undefined;
  const message = error instanceof Error ? error.message : String(error);
  // The Interactions client keeps the error body apart from its message.
  const body = typeof error === "object" && error !== null && "body" in error ? String(error.body) : "";
  if (status === 429) {
    const retryAfterSeconds = suggestedRetryDelay(`${message} ${body}`);
    return new ProviderError(provider, "rate_limited", `HTTP 429 from ${provider}`, {
      status,
      cause: error,
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    });
  }
  if (status !== undefined && status >= 500) {
    return new ProviderError(provider, "unavailable", `HTTP ${status} from ${provider}`, { status, cause: error });
  }
  if (status !== undefined && status >= 400) {
    return new ProviderError(provider, "rejected", `HTTP ${status} from ${provider}`, { status, cause: error });
  }
  // Network failures, broken or malformed streams ("Incomplete JSON segment"), aborts from elsewhere.
  return new ProviderError(provider, "unavailable", `Request to ${provider} failed`, { cause: error });
}
