import type { TextModelEntry } from "../models/model-entry.ts";
import type { Pricing, SearchDepth } from "../models/pricing.ts";
import { TOKENS_PER_IMAGE, tokensAbout, tokensAtMost } from "../models/token-estimates.ts";
import type { ConversationTurn, TextUsage } from "../providers/text-provider.ts";
import type { UsageRecord } from "../store/usage-ledger.ts";

/**
 * What a chat answer may cost before it runs (its reservation) and what it did cost (its receipt).
 *
 * A reservation must not fall short, yet it is made before the conversation is read (in the transaction that
 * starts the answer), so its input side is an upper estimate from the limits: the new message, the most history
 * the model is sent, the instructions, a grounded answer's sources and the pictures (`models/token-estimates.ts`).
 * The output side is the cap every call is sent
 * (`MAX_OUTPUT_TOKENS`, thinking included). Each further round of tool calls reserves again from the real
 * conversation by then. What is not spent is released when the answer ends.
 */

/** A grounded answer's sources, as the instruction carries them: each result cut to 1,500 characters. */
const CHARACTERS_PER_SEARCH_RESULT = 1_500;

/** An upper estimate of the input tokens of one model call. */
export function estimatedInputTokens(systemInstruction: string, contents: readonly ConversationTurn[]): number {
  let characters = systemInstruction.length;
  let images = 0;
  for (const turn of contents) {
    characters += turn.text.length;
    images += turn.images?.length ?? 0;
    for (const call of turn.toolCalls ?? []) characters += call.name.length + JSON.stringify(call.arguments).length;
    for (const reply of turn.toolResults ?? []) characters += JSON.stringify(reply.response).length;
  }
  return tokensAtMost(characters) + images * TOKENS_PER_IMAGE;
}

/** The input estimate of a new turn, from the limits (before the conversation is read). */
export function firstRoundInputTokens(input: {
  readonly systemInstruction: string;
  readonly message: string;
  readonly historyCharacters: number;
  readonly images: number;
  /** Search results a grounded answer's instruction carries (0 for an answer that is not grounded). */
  readonly searchResults: number;
}): number {
  return (
    tokensAtMost(
      input.systemInstruction.length +
        input.message.length +
        input.historyCharacters +
        input.searchResults * CHARACTERS_PER_SEARCH_RESULT,
    ) +
    input.images * TOKENS_PER_IMAGE
  );
}

export class AnswerCost {
  readonly #pricing: Pricing;
  readonly #searchDepth: SearchDepth;

  constructor(pricing: Pricing, searchDepth: SearchDepth) {
    this.#pricing = pricing;
    this.#searchDepth = searchDepth;
  }

  /**
   * The most one model call can cost with `inputTokens` in, the model's cap out, and `searches` web searches:
   * the dearest of the models that may answer (a fallback may cost more than the model asked for).
   */
  reservation(
    models: readonly TextModelEntry[],
    outputCap: (entry: TextModelEntry) => number,
    inputTokens: number,
    searches: number,
    at: Date,
  ): number {
    const call = Math.max(
      0,
      ...models.map((entry) => this.#pricing.text(entry.id, { inputTokens, outputTokens: outputCap(entry) }, at)),
    );
    return call + this.#pricing.searches(this.#searchDepth, searches, at);
  }

  /** One web search at the server's depth. */
  search(at: Date): number {
    return this.#pricing.searches(this.#searchDepth, 1, at);
  }

  /**
   * An answer's receipt: the model's tokens at its prices on the day the answer started, plus its web searches.
   * With no count from the provider (stopped midway), the input is taken as `inputEstimate` and the output from
   * the characters written.
   */
  receipt(
    at: Date,
    inputEstimate: number,
  ): (model: string, usage: TextUsage | undefined, searches: number, content: string) => UsageRecord {
    return (model, reported, searches, content) => {
      const usage: TextUsage = reported ?? {
        inputTokens: inputEstimate,
        outputTokens: tokensAbout(content.length),
      };
      const text = this.#pricing.text(model, usage, at);
      const search = this.#pricing.searches(this.#searchDepth, searches, at);
      return {
        input_tokens: usage.inputTokens,
        output_tokens: usage.outputTokens,
        ...(usage.thinkingTokens === undefined ? {} : { thinking_tokens: usage.thinkingTokens }),
        ...(usage.cachedTokens === undefined ? {} : { cached_tokens: usage.cachedTokens }),
        ...(searches === 0 ? {} : { search_queries: searches, search_micros: search }),
        cost_micros: text + search,
      };
    };
  }
}
