import { SpanKind } from "@opentelemetry/api";
import { attributes, errorType, markFailed, type Telemetry } from "../telemetry/telemetry.ts";
import type { Logger } from "../logging/logger.ts";
import type {
  TextGenerationRequest,
  TextProvider,
  TextStreamEvent,
  ThinkingLevel,
} from "../providers/text-provider.ts";
import type { ProviderRun } from "../contract/resources.ts";
import { continueAfterFailure } from "./fallback.ts";
import type { ModelChoice, ModelChoices } from "./model-choices.ts";
import type { ModelProvider, TextModelEntry } from "./model-entry.ts";

interface TextModelsOptions {
  readonly choices: ModelChoices;
  /** The adapter for each text provider this server runs (live or simulated). */
  readonly providers: Partial<Readonly<Record<ModelProvider, TextProvider>>>;
  /** The level asked of models that accept one (`THINKING_LEVEL`). */
  readonly thinkingLevel: ThinkingLevel;
  /** The most tokens one call may write, thinking included (`MAX_OUTPUT_TOKENS`). */
  readonly maxOutputTokens: number;
  readonly logger: Logger;
  readonly telemetry: Telemetry;
}

/** Which model is answering: sent once, just before its first output. */
interface AnsweringEvent {
  readonly type: "answering";
  readonly model: string;
  readonly run: ProviderRun;
  /** The model the request asked for, when another one answers. */
  readonly fallbackFrom?: string;
}

export type TextModelEvent = TextStreamEvent | AnsweringEvent;

/** What a chat asks of the text models, beyond the model itself. */
export type TextRequest = Omit<TextGenerationRequest, "model" | "thinkingLevel" | "fallbackFrom" | "maxOutputTokens">;

/**
 * The text models a chat can use: choosing one for a request, and streaming from it with its fallback chain. A
 * model that fails before its first output (thought or text) with a failure another model may not share hands
 * over to the next one; once anything has reached the user, a failure is final, so an answer never switches
 * model midway.
 */
export class TextModels {
  readonly #options: TextModelsOptions;

  constructor(options: TextModelsOptions) {
    this.#options = options;
  }

  /** False when no text model can run here (no key, simulation refused). */
  get available(): boolean {
    return this.#options.choices.pickable("text").length > 0;
  }

  /** The model for a request and its fallbacks; `accepts` leaves out fallbacks that cannot take the request. */
  choose(requested: string | undefined, accepts?: (entry: TextModelEntry) => boolean): ModelChoice<"text"> {
    return this.#options.choices.choose("text", requested, accepts);
  }

  /** The most tokens one call to `entry` may write, thinking included. */
  outputCap(entry: TextModelEntry): number {
    return Math.min(this.#options.maxOutputTokens, entry.capabilities.maxOutputTokens ?? this.#options.maxOutputTokens);
  }

  /** How a model runs here (`live` or `simulated`). */
  runOf(entry: TextModelEntry): ProviderRun {
    return this.#provider(entry).run;
  }

  #provider(entry: TextModelEntry): TextProvider {
    const provider = this.#options.providers[entry.provider];
    if (provider === undefined) throw new Error(`no text provider for ${entry.provider}`);
    return provider;
  }

  /** The request as one model takes it: the thinking level only where the model accepts it. */
  #requestFor(entry: TextModelEntry, request: TextRequest, fallbackFrom: string | undefined): TextGenerationRequest {
    const { thinkingLevel } = this.#options;
    const { thinkingLevels, thoughtSummaries, functionCalling } = entry.capabilities;
    const { tools, ...rest } = request;
    return {
      ...rest,
      // A model without function calling answers in words alone.
      ...(tools !== undefined && functionCalling ? { tools } : {}),
      model: entry.id,
      maxOutputTokens: this.outputCap(entry),
      ...(thinkingLevels.includes(thinkingLevel) ? { thinkingLevel } : {}),
      includeThoughts: request.includeThoughts === true && thoughtSummaries,
      ...(fallbackFrom === undefined ? {} : { fallbackFrom }),
    };
  }

  async *stream(choice: ModelChoice<"text">, request: TextRequest): AsyncGenerator<TextModelEvent> {
    const models = [choice.model, ...choice.chain];
    for (const [index, entry] of models.entries()) {
      const fallbackFrom = index === 0 ? undefined : choice.model.id;
      const provider = this.#provider(entry);
      let started = false;
      const call = this.#callTelemetry(entry, provider.run);
      try {
        for await (const event of provider.stream(this.#requestFor(entry, request, fallbackFrom))) {
          if (event.type === "finish") call.finished(event);
          if (!started) {
            started = true;
            yield {
              type: "answering",
              model: entry.id,
              run: provider.run,
              ...(fallbackFrom === undefined ? {} : { fallbackFrom }),
            };
          }
          yield event;
        }
        call.end({ outcome: "ok" });
        return;
      } catch (error) {
        call.end(request.signal.aborted ? { outcome: "aborted" } : { outcome: "failed", error });
        // A cancelled request is over, whatever the failure looks like.
        if (request.signal.aborted) throw error;
        continueAfterFailure(this.#options.logger, models, index, error, started);
      } finally {
        // The consumer stopped reading (a stop, a shutdown): the call ends here, cut short.
        call.end({ outcome: "aborted" });
      }
    }
  }

  /**
   * One model call as the GenAI conventions see it: a client span (`chat <model>`) with the provider, the models
   * and the tokens, and the `gen_ai.client.*` metrics; a failure counts in `atelier.provider.errors`.
   */
  #callTelemetry(entry: TextModelEntry, run: ProviderRun) {
    const { tracer, metrics } = this.#options.telemetry;
    const base = {
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": entry.provider === "openai-compatible" ? "openai" : "gcp.gemini",
      "gen_ai.request.model": entry.id,
      "atelier.provider_run": run,
    };
    const span = tracer.startSpan(`chat ${entry.id}`, { kind: SpanKind.CLIENT, attributes: base });
    const startedAt = performance.now();
    let responseModel: string | undefined;
    let ended = false;
    return {
      finished: (event: Extract<TextStreamEvent, { type: "finish" }>) => {
        responseModel = event.modelVersion ?? entry.id;
        const usage = event.usage;
        span.setAttributes(
          attributes({
            "gen_ai.response.model": responseModel,
            "gen_ai.response.finish_reasons": [event.finishReason],
            "gen_ai.usage.input_tokens": usage?.inputTokens,
            "gen_ai.usage.output_tokens":
              usage === undefined ? undefined : usage.outputTokens + (usage.thinkingTokens ?? 0),
          }),
        );
        if (usage === undefined) return;
        const labels = { ...base, "gen_ai.response.model": responseModel };
        metrics.tokenUsage.record(usage.inputTokens, { ...labels, "gen_ai.token.type": "input" });
        metrics.tokenUsage.record(usage.outputTokens + (usage.thinkingTokens ?? 0), {
          ...labels,
          "gen_ai.token.type": "output",
        });
      },
      /** Ends the call once (later calls do nothing): done, cut short by the caller, or failed. */
      end: (ending: { outcome: "ok" } | { outcome: "aborted" } | { outcome: "failed"; error: unknown }) => {
        if (ended) return;
        ended = true;
        const failure =
          ending.outcome === "ok" ? undefined : ending.outcome === "aborted" ? "aborted" : errorType(ending.error);
        if (ending.outcome === "failed") markFailed(span, ending.error);
        else if (ending.outcome === "aborted") span.setAttribute("error.type", "aborted");
        span.end();
        metrics.operationDuration.record(
          (performance.now() - startedAt) / 1000,
          attributes({ ...base, "gen_ai.response.model": responseModel, "error.type": failure }),
        );
        if (failure !== undefined && failure !== "aborted") {
          metrics.providerErrors.add(1, { "atelier.provider": base["gen_ai.provider.name"], "error.type": failure });
        }
      },
    };
  }
}
