/**
 * An abort signal for one streaming call that fires when the caller cancels or when the stream makes no progress
 * for `timeoutMs` (no first chunk, or too long a gap). `timedOut` tells the two apart afterwards, so a stall is
 * reported as a timeout and a cancellation as an abort. `arm` restarts the wait on each chunk; `dispose` ends it.
 */
export class ProgressDeadline {
  readonly #controller = new AbortController();
  readonly #timeoutMs: number;
  readonly #callerSignal: AbortSignal;
  readonly #forwardAbort: () => void;
  #timer: NodeJS.Timeout | undefined;
  #timedOut = false;

  constructor(callerSignal: AbortSignal, timeoutMs: number) {
    this.#callerSignal = callerSignal;
    this.#timeoutMs = timeoutMs;
    this.#forwardAbort = () => this.#controller.abort(callerSignal.reason);
    if (callerSignal.aborted) this.#forwardAbort();
    callerSignal.addEventListener("abort", this.#forwardAbort, { once: true });
    this.arm();
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get timedOut(): boolean {
    return this.#timedOut;
  }

  arm(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timedOut = true;
      this.#controller.abort(new Error("No progress within the timeout"));
    }, this.#timeoutMs);
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#callerSignal.removeEventListener("abort", this.#forwardAbort);
  }
}
