import type { ServerResponse } from "node:http";
import type { ChatEvent } from "../contract/chat-events.ts";
import type { ChatEventSink } from "../chat/chat-event-sink.ts";

/**
 * A Server-Sent Events response: `event:`, one-line JSON `data:`, and `id:` (the content offset) per event;
 * `: ping` comments every `heartbeatSeconds` so proxies and clients know the connection is alive; headers that
 * stop buffering and caching on the way (`no-cache, no-transform`, `X-Accel-Buffering: no`).
 */
export class SseStream implements ChatEventSink {
  readonly #response: ServerResponse;
  readonly #heartbeatMilliseconds: number;
  #heartbeat: NodeJS.Timeout | undefined;
  #connected = true;
  #ended = false;
  #pending = "";
  #flushScheduled = false;
  /** Whether anything left yet (`headersSent` turns true at `writeHead`, before anything leaves). */
  #started = false;
  readonly #disconnectListeners: (() => void)[] = [];

  constructor(response: ServerResponse, heartbeatSeconds: number) {
    this.#response = response;
    this.#heartbeatMilliseconds = heartbeatSeconds * 1000;
    // A client gone before the stream opened: its `close` has fired already and will not again.
    if (response.destroyed) this.#connected = false;
    response.once("close", () => {
      const wasConnected = this.#connected;
      this.#connected = false;
      this.#stopHeartbeat();
      if (wasConnected && !this.#ended) for (const listener of this.#disconnectListeners) listener();
    });
  }

  get connected(): boolean {
    return this.#connected && !this.#response.destroyed;
  }

  /**
   * Sends the headers (200) so the client sees the stream has started: with the first event when one follows in
   * this tick (one write, not two; a stream's `meta` always does), on their own on the next tick otherwise.
   */
  open(): void {
    this.#response.writeHead(200, {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-cache, no-transform",
      "X-Accel-Buffering": "no",
      Connection: "keep-alive",
    });
    this.#scheduleFlush();
    this.#heartbeat = setInterval(() => {
      if (!this.connected) return;
      this.#started = true;
      this.#response.write(": ping\n\n");
    }, this.#heartbeatMilliseconds);
    this.#heartbeat.unref();
  }

  send(event: ChatEvent, offset: number): void {
    if (!this.connected) return;
    // Events produced in the same tick (a burst of tokens) leave as one write on the next tick: one string to
    // encode, one chunk, one syscall. Nothing waits longer than the current tick, so latency is unchanged.
    this.#pending += `id: ${String(offset)}\nevent: ${event.event}\ndata: ${JSON.stringify(event.data)}\n\n`;
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    process.nextTick(() => this.#flush());
  }

  #flush(): void {
    this.#flushScheduled = false;
    const pending = this.#pending;
    this.#pending = "";
    if (!this.connected || this.#response.writableEnded) return;
    if (pending !== "") this.#response.write(pending);
    else if (!this.#started) this.#response.flushHeaders();
    this.#started = true;
  }

  /** Calls `listener` when the client goes; at once (on the next microtask) if it has gone already. */
  onDisconnect(listener: () => void): void {
    if (!this.#connected && !this.#ended) queueMicrotask(listener);
    else this.#disconnectListeners.push(listener);
  }

  /** Ends the stream: what is still pending goes with the end, in one write. */
  end(): void {
    this.#ended = true;
    this.#stopHeartbeat();
    const pending = this.#pending;
    this.#pending = "";
    if (this.#response.writableEnded) return;
    if (pending !== "" && this.connected) this.#response.end(pending);
    else this.#response.end();
  }

  #stopHeartbeat(): void {
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }
}
