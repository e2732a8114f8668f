import type { ErrorCode } from "./error-codes.ts";

/** A source the answer may cite as `[index]`. */
export interface Citation {
  readonly index: number;
  readonly url: string;
  readonly title: string;
  /** Whether the final answer cites it. */
  readonly used?: boolean;
}

/**
 * A generation's receipt: what it used, as the provider counted it, and what that cost at the prices in force
 * when it started. A failed or blocked generation costs nothing. A simulated one (`provider: "simulated"`) is
 * priced as the live model would be, and counted apart from real spending.
 */
export interface Usage {
  readonly input_tokens: number;
  readonly output_tokens: number;
  /** Thinking tokens, billed as output (not part of `output_tokens`). */
  readonly thinking_tokens?: number;
  /** Input tokens served from the provider's cache (part of `input_tokens`). */
  readonly cached_tokens?: number;
  /** Pictures generated. */
  readonly images?: number;
  /** Seconds of video generated. */
  readonly video_seconds?: number;
  /** Web searches made for the answer. */
  readonly search_queries?: number;
  /** In US dollars (exact to the micro-dollar). */
  readonly cost_usd: number;
}

/** Always the first event of a stream. */
export interface MetaEvent {
  readonly chat_id: string;
  readonly message_id: string;
  readonly request_id: string;
  /** The model asked for. */
  readonly model: string;
  readonly grounding: boolean;
  /** True when this stream replays or follows an answer that an earlier request started. */
  readonly resumed: boolean;
}

interface SourcesEvent {
  readonly citations: readonly Citation[];
}

/** A piece of the answer (`token`) or of the model's thought summary (`thinking`). */
interface TextEvent {
  readonly text: string;
}

export interface DoneEvent {
  readonly message_id: string;
  readonly status: "done";
  readonly finish_reason: string;
  readonly latency_ms: number;
  /** The model that answered (a fallback's id when the requested one failed before answering). */
  readonly model?: string;
  /** How it ran: a simulated answer's receipt is the simulation's, counted apart from real spending. */
  readonly provider?: "live" | "simulated";
  readonly usage?: Usage;
}

/** The model calls a tool (`tool_call`), and, when the answer waits for the user, the call to approve. */
export interface ToolCallEvent {
  /** Ours, unique within the message: what `tool_result` and `POST /chat/approve` name. */
  readonly call_id: string;
  readonly name: string;
  readonly arguments: Readonly<Record<string, unknown>>;
}

/** What a tool call came to. */
export interface ToolResultEvent {
  readonly call_id: string;
  readonly ok: boolean;
  readonly summary?: string;
  /** The job the tool queued (a picture or a video): it shows in the chat as its own message when it ends. */
  readonly job_id?: string;
  readonly error?: string;
}

export interface ErrorEvent {
  readonly code: ErrorCode;
  readonly message: string;
}

/**
 * The events of a chat stream, the same on SSE (`POST /chat/stream`, `GET /chat/stream/{message_id}`) and the
 * streaming callable. Over SSE each carries `id:`, the number of content characters delivered so far on the
 * message, which a client sends back as `Last-Event-ID` to resume.
 */
export type ChatEvent =
  | { readonly event: "meta"; readonly data: MetaEvent }
  | { readonly event: "sources"; readonly data: SourcesEvent }
  | { readonly event: "thinking"; readonly data: TextEvent }
  | { readonly event: "token"; readonly data: TextEvent }
  | { readonly event: "tool_call"; readonly data: ToolCallEvent }
  | { readonly event: "tool_result"; readonly data: ToolResultEvent }
  /** Terminal: the answer waits (status `awaiting_approval`) until `POST /chat/approve` continues it. */
  | { readonly event: "approval_required"; readonly data: ToolCallEvent }
  | { readonly event: "done"; readonly data: DoneEvent }
  | { readonly event: "error"; readonly data: ErrorEvent };
