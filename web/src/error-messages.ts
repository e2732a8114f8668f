import { ApiError } from "./api-client.ts";

/**
 * Turns API error codes (docs/api.md) into plain words for people. The server's own messages are safe to show
 * but are written for developers; these say what happened and what to do next.
 */

/** "in 45 seconds", "in 3 minutes", "in 2 hours", "in 9 days". */
export function waitPhrase(seconds: number): string {
  const whole = Math.max(1, Math.ceil(seconds));
  if (whole < 120) return `in ${String(whole)} second${whole === 1 ? "" : "s"}`;
  if (whole < 7_200) return `in ${String(Math.ceil(whole / 60))} minutes`;
  if (whole < 172_800) return `in ${String(Math.ceil(whole / 3_600))} hours`;
  return `in ${String(Math.ceil(whole / 86_400))} days`;
}

/** The words for an error code, from a refused request or from a stream's `error` event. */
export function describeErrorCode(code: string, serverMessage = ""): string {
  switch (code) {
    case "blocked":
      return "The safety filters blocked this request. Try wording it differently.";
    case "unavailable":
      return "The AI service is unavailable right now. Please try again in a moment.";
    case "aborted":
      return "Stopped.";
    case "unauthenticated":
      return "Your session has ended. Please sign in again.";
    case "payload_too_large":
      return "That is too large to send.";
    case "unsupported_media_type":
      return "That kind of file is not supported: use a PNG, JPEG or WebP image.";
    case "not_found":
      return "That chat or item no longer exists.";
    case "invalid_argument":
      return serverMessage === "" ? "The request was not valid." : serverMessage;
    case "network":
      return "The server cannot be reached. Check your connection and try again.";
    default:
      return "Something went wrong on our side. Please try again.";
  }
}

/** The words for anything an API call threw. */
export function describeError(error: unknown): string {
  if (!(error instanceof ApiError)) return describeErrorCode("internal");
  if (error.code === "resource_exhausted") return describeLimit(error);
  return describeErrorCode(error.code, error.message);
}

function describeLimit(error: ApiError): string {
  const when = error.retryAfterSeconds === undefined ? "later" : waitPhrase(error.retryAfterSeconds);
  if ("tier" in error.details) return `You have used this month's generations. You can create more ${when}.`;
  if ("window_seconds" in error.details) return `You have reached the hourly web search limit. Try again ${when}.`;
  if ("scope" in error.details) return `Too many images or videos are in progress. Try again ${when}.`;
  return `You are sending requests too quickly. Try again ${when}.`;
}
