import { trackedCheck, type TransactionCheck } from "../store/transaction-check.ts";
import type { RateLimiter } from "./rate-limiter.ts";
import type { StreamSlot, StreamSlots } from "./stream-slots.ts";

/**
 * What admits a new stream: a token of the caller's rate limit and one of their stream slots. Both are taken
 * by checks inside the transaction that starts the stream, not in transactions of their own, because each
 * would be two more round trips to Firestore before the model could be called. A refused start writes
 * nothing, so it holds no slot; it takes its rate token afterwards, in a transaction of its own, since every
 * request takes one (invalid ones included, or they could be sent without limit).
 */
export class StreamAdmission {
  readonly #slots: StreamSlots;
  readonly #rateLimiter: RateLimiter | undefined;

  constructor(slots: StreamSlots, rateLimiter: RateLimiter | undefined) {
    this.#slots = slots;
    this.#rateLimiter = rateLimiter;
  }

  /**
   * Runs `start` with the admission's checks for it to make in its transaction; hands back what it started and
   * the slot it holds (the caller gives it back when the stream ends).
   */
  async admit<T>(
    uid: string,
    start: (admissions: readonly TransactionCheck[]) => Promise<T>,
  ): Promise<{ readonly started: T; readonly slot: StreamSlot }> {
    const slot = this.#slots.reserve(uid);
    const rateLimiter = this.#rateLimiter;
    const rate = rateLimiter === undefined ? undefined : trackedCheck(rateLimiter.check(uid));
    let started: T;
    try {
      started = await start(rate === undefined ? [slot.check] : [rate.check, slot.check]);
    } catch (error) {
      await slot.abandon().catch(() => undefined);
      // An empty bucket answers before anything else, as it would have had the token been taken first; a start
      // that failed after its transaction committed has taken its token already (one whose commit failed is
      // let off: that failure was ours).
      const token = rate?.outcome();
      if (token !== undefined && !token.refused && !token.written) await rateLimiter?.consume(uid);
      throw error;
    }
    return { started, slot: slot.taken() };
  }
}
