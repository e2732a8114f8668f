import type { ProviderRun } from "../store/records.ts";

/** One turn of the conversation sent to the model. */
export interface ConversationTurn {
  readonly role: "user" | "model";
  readonly text: string;
  /** Images sent with a user turn. */
  readonly images?: readonly { readonly mimeType: string; readonly data: Buffer }[];
}

export interface TextGenerationRequest {
  readonly model: string;
  readonly systemInstruction: string;
  /** Oldest first; the last turn is the user's new message. */
  readonly contents: readonly ConversationTurn[];
  /** Numbered web sources the answer may cite as [n] (already described in the system instruction). */
  readonly sources?: readonly { readonly index: number; readonly title: string; readonly url: string }[];
  readonly signal: AbortSignal;
}

export interface TextUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
}

export type TextStreamEvent =
  | { readonly type: "text"; readonly text: string }
  | { readonly type: "finish"; readonly finishReason: string; readonly usage?: TextUsage };

/**
 * The text port. `stream` yields text as it arrives and ends with one `finish` event, or throws a
 * `ProviderError` (blocked, rate limited, unavailable, timeout, rejected, aborted).
 */
export interface TextProvider {
  readonly run: ProviderRun;
  stream(request: TextGenerationRequest): AsyncIterable<TextStreamEvent>;
}
