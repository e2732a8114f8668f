import type { ProviderRun } from "../contract/resources.ts";

/** A tool the model may call: its arguments as a JSON Schema object. */
export interface ToolDeclaration {
  readonly name: string;
  readonly description: string;
  readonly parameters: Readonly<Record<string, unknown>>;
}

/** A call the model made. */
export interface ToolCallRequest {
  /** The provider's own id for the call, when it gives one: the reply must carry it back. */
  readonly id?: string;
  readonly name: string;
  readonly arguments: Readonly<Record<string, unknown>>;
  /**
   * The provider's opaque signature of the thinking behind the call (Gemini's `thoughtSignature`), sent back
   * exactly as received with the call in the next request: Gemini 3 refuses a history whose calls lack it.
   */
  readonly signature?: string;
}

/** What a tool answered, for the model. */
export interface ToolResultReply {
  /** The call's provider id, when it had one. */
  readonly id?: string;
  readonly name: string;
  readonly response: Readonly<Record<string, unknown>>;
}

/**
 * One turn of the conversation sent to the model: the user's words (with images), the model's (with the tool
 * calls it made, in order), or the tools' replies to those calls.
 */
export interface ConversationTurn {
  readonly role: "user" | "model" | "tool";
  readonly text: string;
  /** Images sent with a user turn. */
  readonly images?: readonly { readonly mimeType: string; readonly data: Buffer }[];
  /** A model turn's calls, as the model made them. */
  readonly toolCalls?: readonly ToolCallRequest[];
  /** A tool turn's replies, in the order of the calls they answer. */
  readonly toolResults?: readonly ToolResultReply[];
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
  /** The most tokens the model may write, thinking included (what a budget reservation is sized by). */
  readonly maxOutputTokens?: number;
  /** Tools the model may call; a call comes back as a `tool_call` event and ends the step. */
  readonly tools?: readonly ToolDeclaration[];
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
  /** The model calls a tool: the caller runs it and sends the result in the next request. */
  | { readonly type: "tool_call"; readonly call: ToolCallRequest }
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
