import type { Logger } from "../logging/logger.ts";
import { isProviderError, ProviderError } from "../providers/provider-error.ts";
import type { ModelEntry } from "./model-entry.ts";

/**
 * Walking a fallback chain: the first model, then each fallback in order, while the failure is one another
 * model may not share (429, 5xx, timeouts, a model gone) and nothing has been produced yet. The log line of each
 * step names the models and the failure class, never a key or the provider's text.
 */

/** Whether a failure lets the next model in the chain try. */
function allowsFallback(error: unknown): boolean {
  return isProviderError(error) && error.fallbackWorthy;
}

function logFallback(logger: Logger, from: ModelEntry, to: ModelEntry, error: unknown): void {
  logger.warn("model failed; trying the next in its fallback chain", {
    model: from.id,
    next_model: to.id,
    ...(error instanceof ProviderError ? { failure: error.failure, provider_status: error.status } : {}),
  });
}

function logExhausted(logger: Logger, tried: readonly ModelEntry[], error: unknown): void {
  logger.warn("every model of the fallback chain failed", {
    models_tried: tried.map((entry) => entry.id),
    ...(error instanceof ProviderError ? { failure: error.failure, provider_status: error.status } : {}),
  });
}

/**
 * The one decision after a model of `models` (at `index`) failed: throws `error` when the walk ends here (output
 * was produced, the failure is one the next model would share, or no model is left, which is logged), and
 * otherwise logs the hand-over and returns, so the caller tries the next model.
 */
export function continueAfterFailure(
  logger: Logger,
  models: readonly ModelEntry[],
  index: number,
  error: unknown,
  produced: boolean,
): void {
  const failed = models[index];
  const next = models[index + 1];
  if (produced || !allowsFallback(error) || failed === undefined) throw error;
  if (next === undefined) {
    if (models.length > 1) logExhausted(logger, models, error);
    throw error;
  }
  logFallback(logger, failed, next, error);
}

/** The answer of the first model in `models` that succeeds, and which one it was. */
export async function firstThatAnswers<Entry extends ModelEntry, Result>(
  models: readonly Entry[],
  logger: Logger,
  attempt: (entry: Entry, fallbackFrom: string | undefined) => Promise<Result>,
): Promise<{ readonly entry: Entry; readonly result: Result; readonly fallbackFrom?: string }> {
  const [first] = models;
  if (first === undefined) throw new Error("a fallback chain has at least one model");
  for (const [index, entry] of models.entries()) {
    const fallbackFrom = index === 0 ? undefined : first.id;
    try {
      const result = await attempt(entry, fallbackFrom);
      return { entry, result, ...(fallbackFrom === undefined ? {} : { fallbackFrom }) };
    } catch (error) {
      continueAfterFailure(logger, models, index, error, false);
    }
  }
  throw new Error("unreachable: the loop returns or throws");
}
