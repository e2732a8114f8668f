import type { ErrorCode } from "../errors/app-error.ts";
import type { Citation, Usage } from "../store/records.ts";

/**
 * The events of a chat stream, the same for SSE and the streaming callable. Every event carries the offset:
 * how many characters of content the client has received so far on this message (SSE `id:`), so a client can
 * resume from it.
 */
export interface MetaEvent {
  readonly chat_id: string;
  readonly message_id: string;
  readonly request_id: string;
  readonly model: string;
  readonly grounding: boolean;
  readonly resumed: boolean;
}

export interface DoneEvent {
  readonly message_id: string;
  readonly status: "done";
  readonly finish_reason: string;
  readonly latency_ms: number;
  /** The model that answered (a fallback's id when the requested one failed before answering). */
  readonly model?: string;
  readonly usage?: Usage;
}

export interface ErrorEvent {
  readonly code: ErrorCode;
  readonly message: string;
}

export type ChatEvent =
  | { readonly event: "meta"; readonly data: MetaEvent }
  | { readonly event: "sources"; readonly data: { readonly citations: readonly Citation[] } }
  | { readonly event: "thinking"; readonly data: { readonly text: string } }
  | { readonly event: "token"; readonly data: { readonly text: string } }
  | { readonly event: "done"; readonly data: DoneEvent }
  | { readonly event: "error"; readonly data: ErrorEvent };

/** Where a stream's events go: an SSE response, a callable's chunks. */
export interface ChatEventSink {
  /** False once the client has gone. Sending then is a no-op. */
  readonly connected: boolean;
  send(event: ChatEvent, offset: number): void;
  /** Called once, when the client goes away before `end`. */
  onDisconnect(listener: () => void): void;
  /** Ends the response (after the terminal event). */
  end(): void;
}
