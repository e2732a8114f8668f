import type { CallableResponse } from "firebase-functions/v2/https";
import type { ChatEvent } from "../contract/chat-events.ts";
import type { ChatEventSink } from "../chat/chat-event-sink.ts";

/** A chunk of the streaming callable: the same event and offset an SSE client sees. */
export interface ChatChunk {
  readonly event: ChatEvent["event"];
  readonly data: ChatEvent["data"];
  readonly id: number;
}

/**
 * The chat events of a streaming callable (`httpsCallable(functions, "chat").stream(...)`): each event is one
 * chunk, `{event, data, id}`. The callable's abort signal is the client going away, which the chat service
 * treats exactly like an SSE disconnect (generation goes on for the grace period, so a resume can pick it up).
 * It also remembers the whole answer, which becomes the callable's result.
 */
export class CallableSink implements ChatEventSink {
  readonly #response: CallableResponse<ChatChunk> | undefined;
  readonly #streaming: boolean;
  #content = "";
  #terminal: ChatEvent | undefined;
  #meta: ChatEvent | undefined;
  #written: Promise<unknown> = Promise.resolve();

  /** `response` is absent when the platform gives no streaming channel; the result still comes back whole. */
  constructor(response: CallableResponse<ChatChunk> | undefined, streaming: boolean) {
    this.#response = response;
    this.#streaming = streaming && response !== undefined;
  }

  get connected(): boolean {
    return this.#response?.signal.aborted !== true;
  }

  send(event: ChatEvent, offset: number): void {
    if (event.event === "meta") this.#meta = event;
    if (event.event === "token") this.#content += event.data.text;
    if (event.event === "done" || event.event === "error" || event.event === "approval_required") {
      this.#terminal = event;
    }
    if (this.#streaming && this.connected) {
      const chunk = { event: event.event, data: event.data, id: offset };
      this.#written = this.#written.then(() => this.#response?.sendChunk(chunk)).catch(() => undefined);
    }
  }

  onDisconnect(listener: () => void): void {
    this.#response?.signal.addEventListener("abort", listener, { once: true });
  }

  end(): void {
    // The callable's return value ends the response.
  }

  /** Resolves once every chunk sent so far is written, so the result or error cannot overtake them. */
  flushed(): Promise<unknown> {
    return this.#written;
  }

  get terminal(): ChatEvent | undefined {
    return this.#terminal;
  }

  /**
   * The callable's result: the meta ids, the whole content, and the done payload, or, for an answer waiting on
   * the user, its status and the call to approve (answered with `POST /chat/approve`).
   */
  result(): Record<string, unknown> {
    const terminal = this.#terminal;
    return {
      ...(this.#meta?.data ?? {}),
      content: this.#content,
      ...(terminal?.event === "done" ? terminal.data : {}),
      ...(terminal?.event === "approval_required"
        ? { status: "awaiting_approval", approval_required: terminal.data }
        : {}),
    };
  }
}
