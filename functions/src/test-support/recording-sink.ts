import type { ChatEventSink } from "../chat/chat-event-sink.ts";
import type { ChatEvent } from "../contract/chat-events.ts";

type ChatEventName = ChatEvent["event"];

/** An event as the client received it: the event and the content offset it carried (an SSE event's `id:`). */
type RecordedEvent = ChatEvent & { readonly offset: number };

/**
 * A chat client in memory: the {@link ChatEventSink} port with nothing between the chat core and the test. It
 * records every event with its offset, waits for events, and hangs up as a closed browser tab does (after which
 * sends are dropped and the disconnect listeners run once, as on an SSE response).
 */
export class RecordingSink implements ChatEventSink {
  readonly events: RecordedEvent[] = [];
  /** Resolves once the stream is ended (the terminal event sent, or the client long gone). */
  readonly ended: Promise<void>;
  #connected = true;
  #ended = false;
  #endStream: () => void = () => undefined;
  readonly #disconnectListeners: (() => void)[] = [];
  readonly #waiters: { predicate: (event: RecordedEvent) => boolean; resolve: (event: RecordedEvent) => void }[] = [];

  constructor() {
    this.ended = new Promise((resolve) => (this.#endStream = resolve));
  }

  get connected(): boolean {
    return this.#connected;
  }

  send(event: ChatEvent, offset: number): void {
    if (!this.#connected) return;
    const recorded = { ...event, offset } as RecordedEvent;
    this.events.push(recorded);
    for (const waiter of [...this.#waiters]) {
      if (waiter.predicate(recorded)) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.resolve(recorded);
      }
    }
  }

  onDisconnect(listener: () => void): void {
    this.#disconnectListeners.push(listener);
  }

  end(): void {
    this.#ended = true;
    this.#endStream();
  }

  /** The client goes away. */
  disconnect(): void {
    if (!this.#connected) return;
    this.#connected = false;
    if (!this.#ended) for (const listener of this.#disconnectListeners) listener();
  }

  /** Resolves with the first event (already received or still to come) that matches. */
  waitFor(predicate: (event: RecordedEvent) => boolean, timeoutMs = 10_000): Promise<RecordedEvent> {
    const found = this.events.find(predicate);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no matching event within ${String(timeoutMs)} ms; got ${this.names().join(",")}`));
      }, timeoutMs);
      this.#waiters.push({
        predicate,
        resolve: (event) => {
          clearTimeout(timer);
          resolve(event);
        },
      });
    });
  }

  names(): ChatEventName[] {
    return this.events.map((event) => event.event);
  }

  /** The events of one kind, with their data and offsets. */
  of<Name extends ChatEventName>(name: Name): Extract<RecordedEvent, { event: Name }>[] {
    return this.events.filter((event): event is Extract<RecordedEvent, { event: Name }> => event.event === name);
  }

  /** The first event, which is always `meta`. */
  meta(): Extract<ChatEvent, { event: "meta" }>["data"] {
    const first = this.events[0];
    if (first?.event !== "meta") throw new Error(`the stream did not start with meta: ${this.names().join(",")}`);
    return first.data;
  }

  /** The last event: `done` or `error` once the stream has ended. */
  last(): RecordedEvent | undefined {
    return this.events.at(-1);
  }

  /** The answer as received: the `token` texts, concatenated. */
  text(): string {
    return this.of("token")
      .map((event) => event.data.text)
      .join("");
  }

  /** The thought summary as received. */
  thinking(): string {
    return this.of("thinking")
      .map((event) => event.data.text)
      .join("");
  }
}
