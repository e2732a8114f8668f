/**
 * The streams this process is generating right now. Lets a stop request that lands on the same process act at
 * once (others see the stop flag on the message document within one update interval), counts open streams for
 * the connection gauge, and lets shutdown end them cleanly.
 */
export interface ActiveStream {
  readonly messageId: string;
  /** Asks the stream to stop; resolves once it has written its final state. */
  abort(reason: "stopped" | "shutdown"): Promise<void>;
}

export class ActiveStreams {
  readonly #streams = new Map<string, ActiveStream>();
  #accepting = true;

  get size(): number {
    return this.#streams.size;
  }

  /** False once shutdown has begun: no new stream may start. */
  get accepting(): boolean {
    return this.#accepting;
  }

  add(stream: ActiveStream): void {
    this.#streams.set(stream.messageId, stream);
  }

  delete(stream: ActiveStream): void {
    if (this.#streams.get(stream.messageId) === stream) this.#streams.delete(stream.messageId);
  }

  get(messageId: string): ActiveStream | undefined {
    return this.#streams.get(messageId);
  }

  /** Stops accepting new streams, lets open ones finish for up to `graceMilliseconds`, then aborts the rest. */
  async shutdown(graceMilliseconds: number): Promise<void> {
    this.#accepting = false;
    const deadline = Date.now() + graceMilliseconds;
    while (this.#streams.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    await Promise.all([...this.#streams.values()].map((stream) => stream.abort("shutdown")));
  }
}
