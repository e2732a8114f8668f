import type { ChatEvent } from "../contract/chat-events.ts";

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
