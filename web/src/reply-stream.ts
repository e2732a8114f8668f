import { parseSse } from "../../functions/src/contract/sse-parser.ts";
import type { ChatBody } from "../../functions/src/contract/request-bodies.ts";
import type { ProviderRun } from "../../functions/src/contract/resources.ts";
import { ApiError, type ApiClient } from "./api-client.ts";
import type {
  Citation,
  DoneEvent,
  MetaEvent,
  ErrorEvent as StreamErrorEvent,
  ToolCallEvent,
  ToolResultEvent,
  Usage,
} from "../../functions/src/contract/chat-events.ts";
import { streamMemory, type StreamProgress } from "./stream-memory.ts";

/**
 * One assistant answer arriving over SSE: POST /chat/stream to ask, GET /chat/stream/{message_id} with
 * `Last-Event-ID` to resume. It keeps the text and the character offset (the events' `id`), so a resumed or
 * reconnected stream continues exactly where this one stopped, and saves both to the tab's stream memory.
 * `fetch` with a body reader is used rather than EventSource, which can neither POST nor send a token.
 */

export type StreamOutcome =
  | {
      readonly kind: "done";
      readonly model?: string;
      readonly provider?: ProviderRun;
      readonly usage?: Usage;
    }
  | { readonly kind: "error"; readonly code: string; readonly message: string }
  /** The connection ended with no `done` or `error` after every reconnect attempt. */
  | { readonly kind: "interrupted" }
  /** The caller aborted (e.g. the user opened another chat); the answer goes on on the server. */
  | { readonly kind: "detached" }
  /** The answer waits for the user's yes or no to a tool call (`approve` continues it). */
  | { readonly kind: "approval"; readonly call: ToolCallEvent };

export interface ReplyHandlers {
  meta(meta: MetaEvent): void;
  sources(citations: readonly Citation[]): void;
  text(content: string): void;
  /** The thought summary so far (a resumed stream from offset 0 sends it again whole). */
  thinking(text: string): void;
  /** A tool the model called (a replay may send one again: tell them apart by `call_id`). */
  toolCall(call: ToolCallEvent): void;
  toolResult(result: ToolResultEvent): void;
}

const RECONNECT_DELAYS_MS = [500, 1_000, 2_000] as const;

export class ReplyStream {
  readonly #api: ApiClient;
  readonly #handlers: ReplyHandlers;
  #chatId: string | undefined;
  #messageId: string | undefined;
  #offset: number;
  #content: string;
  #thinking = "";

  /** `from`: what is already shown of a message being resumed. */
  constructor(api: ApiClient, handlers: ReplyHandlers, from?: StreamProgress) {
    this.#api = api;
    this.#handlers = handlers;
    this.#chatId = from?.chatId;
    this.#messageId = from?.messageId;
    this.#offset = from?.offset ?? 0;
    this.#content = from?.content ?? "";
  }

  get messageId(): string | undefined {
    return this.#messageId;
  }

  /** Asks for a new answer. A refusal before the stream starts (429, 400, ...) throws an `ApiError`. */
  async send(body: ChatBody, signal: AbortSignal): Promise<StreamOutcome> {
    let stream: ReadableStream<Uint8Array>;
    try {
      stream = await this.#api.stream("/chat/stream", { method: "POST", body, signal });
    } catch (error) {
      if (signal.aborted) return { kind: "detached" };
      throw error;
    }
    const outcome = await this.#read(stream, signal);
    return outcome.kind === "interrupted" ? this.resume(signal) : outcome;
  }

  /** Answers a waiting tool call; the answer goes on on the stream this opens (refusals throw an `ApiError`). */
  async approve(callId: string, approved: boolean, signal: AbortSignal): Promise<StreamOutcome> {
    const messageId = this.#messageId;
    if (messageId === undefined) return { kind: "interrupted" };
    let stream: ReadableStream<Uint8Array>;
    try {
      stream = await this.#api.stream("/chat/approve", {
        method: "POST",
        body: { message_id: messageId, call_id: callId, approved },
        signal,
      });
    } catch (error) {
      if (signal.aborted) return { kind: "detached" };
      throw error;
    }
    const outcome = await this.#read(stream, signal);
    return outcome.kind === "interrupted" ? this.resume(signal) : outcome;
  }

  /** Follows the answer from the current offset, reconnecting a few times if the connection drops. */
  async resume(signal: AbortSignal): Promise<StreamOutcome> {
    const messageId = this.#messageId;
    if (messageId === undefined) return { kind: "interrupted" };
    // A function, not the property itself: TypeScript would keep `aborted` narrowed to false across the awaits.
    const detached = () => signal.aborted;
    for (const delay of [0, ...RECONNECT_DELAYS_MS]) {
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      if (detached()) return { kind: "detached" };
      try {
        const stream = await this.#api.stream(`/chat/stream/${encodeURIComponent(messageId)}`, {
          method: "GET",
          lastEventId: this.#offset,
          signal,
        });
        const outcome = await this.#read(stream, signal);
        if (outcome.kind !== "interrupted") return outcome;
      } catch (error) {
        if (detached()) return { kind: "detached" };
        // A 4xx will not get better by retrying (the message is gone, or is someone else's).
        if (error instanceof ApiError && error.status >= 400 && error.status < 500) throw error;
      }
    }
    return { kind: "interrupted" };
  }

  async #read(stream: ReadableStream<Uint8Array>, signal: AbortSignal): Promise<StreamOutcome> {
    const ending: { outcome: StreamOutcome } = { outcome: { kind: "interrupted" } };
    try {
      await parseSse(stream, {
        onEvent: (event) => {
          const data: unknown = JSON.parse(event.data);
          if (event.event === "meta") this.#meta(data as MetaEvent);
          else if (event.event === "sources")
            this.#handlers.sources((data as { citations: readonly Citation[] }).citations);
          else if (event.event === "token") this.#token((data as { text: string }).text, Number(event.id));
          else if (event.event === "thinking") {
            this.#thinking += (data as { text: string }).text;
            this.#handlers.thinking(this.#thinking);
          } else if (event.event === "done") {
            const { model, provider, usage } = data as DoneEvent;
            ending.outcome = {
              kind: "done",
              ...(model === undefined ? {} : { model }),
              ...(provider === undefined ? {} : { provider }),
              ...(usage === undefined ? {} : { usage }),
            };
          } else if (event.event === "tool_call") this.#handlers.toolCall(data as ToolCallEvent);
          else if (event.event === "tool_result") this.#handlers.toolResult(data as ToolResultEvent);
          else if (event.event === "approval_required") {
            ending.outcome = { kind: "approval", call: data as ToolCallEvent };
          } else if (event.event === "error") ending.outcome = { kind: "error", ...(data as StreamErrorEvent) };
        },
      });
    } catch (error) {
      if (signal.aborted) return { kind: "detached" };
      // The connection broke mid-stream: the caller reconnects from the offset.
      console.warn("stream interrupted", error);
    }
    if (ending.outcome.kind !== "interrupted" && this.#messageId !== undefined) streamMemory.forget(this.#messageId);
    return ending.outcome;
  }

  #meta(meta: MetaEvent): void {
    // From offset 0 the server sends the thought summary again whole; from later it sends none of it again.
    if (this.#offset === 0) this.#thinking = "";
    this.#chatId = meta.chat_id;
    this.#messageId = meta.message_id;
    this.#remember();
    this.#handlers.meta(meta);
  }

  /** `end` is the offset after this token; characters up to `#offset` were already shown. */
  #token(text: string, end: number): void {
    const start = Number.isFinite(end) ? end - text.length : this.#offset;
    if (end <= this.#offset) return;
    this.#content += text.slice(Math.max(0, this.#offset - start));
    this.#offset = Number.isFinite(end) ? end : this.#offset + text.length;
    this.#remember();
    this.#handlers.text(this.#content);
  }

  #remember(): void {
    if (this.#chatId === undefined || this.#messageId === undefined) return;
    streamMemory.save({
      chatId: this.#chatId,
      messageId: this.#messageId,
      offset: this.#offset,
      content: this.#content,
    });
  }
}
