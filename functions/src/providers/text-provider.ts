import type { ProviderRun } from "../contract/resources.ts";

/** One turn of the conversation sent to the model. */
export interface ConversationTurn {
  readonly role: "user" | "model";
  readonly text: string;
  /** Images sent with a user turn. */
  readonly images?: readonly { readonly mimeType: string; readonly data: Buffer }[];
}

/** Gemini's thinking levels (`thinkingConfig.thinkingLevel`), lower case as the API's own docs write them. */
export type ThinkingLevel = "minimal" | "low" | "medium" | "high" | "xhigh";

export interface TextGenerationRequest {
  readonly model: string;
  readonly systemInstruction: string;
  /** Oldest first; the last turn is the user's new message. */
  readonly contents: readonly ConversationTurn[];
  /** Numbered web sources the answer may cite as [n] (already described in the system instruction). */
  readonly sources?: readonly { readonly index: number; readonly title: string; readonly url: string }[];
  /** How hard the model thinks; absent: the model's own default (or a model that takes no level). */
  readonly thinkingLevel?: ThinkingLevel;
  /** Stream the model's thought summaries as `thinking` events. */
  readonly includeThoughts?: boolean;
  /**
   * Set when this call is a fallback: the model the request asked for first. For logs, and for the simulated
   * providers, which act out an outage of the first model only.
   */
  readonly fallbackFrom?: string;
  readonly signal: AbortSignal;
}

export interface TextUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** Billed as output; not part of `outputTokens`. */
  readonly thinkingTokens?: number;
  /** Input tokens served from the provider's cache; part of `inputTokens`. */
  readonly cachedTokens?: number;
}

export type TextStreamEvent =
  | { readonly type: "text"; readonly text: string }
  /** A piece of a thought summary: never part of the answer. */
  | { readonly type: "thinking"; readonly text: string }
  | {
      readonly type: "finish";
      readonly finishReason: string;
      readonly usage?: TextUsage;
      /** The version the provider says answered, when it says (a re-routed model shows here). */
      readonly modelVersion?: string;
    };

/**
 * The text port. `stream` yields text (and, when asked, thought summaries) as it arrives and ends with one
 * `finish` event, or throws a `ProviderError` (blocked, rate limited, unavailable, timeout, rejected, aborted).
 */
export interface TextProvider {
  readonly run: ProviderRun;
  stream(request: TextGenerationRequest): AsyncIterable<TextStreamEvent>;
}
