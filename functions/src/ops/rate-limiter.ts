import type { DocumentDatabase } from "../database/document-database.ts";
import { resourceExhausted } from "../errors/app-error.ts";
import { paths } from "../store/paths.ts";
import { runChecks, type TransactionCheck } from "../store/transaction-check.ts";

/**
 * Per-user token bucket on the generating routes: `burst` requests at once, refilled at `perMinute`. The bucket
 * lives in the store (`users/{uid}/counters/rate`) and is updated in a transaction, so it holds across every
 * instance and process, and concurrent requests cannot overshoot it.
 */
interface RateLimiterOptions {
  readonly perMinute: number;
  readonly burst: number;
  readonly now?: () => number;
}

interface Bucket {
  readonly tokens: number;
  readonly refilled_at: number;
}

export class RateLimiter {
  readonly #database: DocumentDatabase;
  readonly #perMillisecond: number;
  readonly #burst: number;
  readonly #now: () => number;

  constructor(database: DocumentDatabase, options: RateLimiterOptions) {
    this.#database = database;
    this.#perMillisecond = options.perMinute / 60_000;
    this.#burst = options.burst;
    this.#now = options.now ?? Date.now;
  }

  /** Takes one token for the user, or throws `resource_exhausted` with the seconds until one is free. */
  async consume(uid: string): Promise<void> {
    await runChecks(this.#database, [this.check(uid)]);
  }

  /** Taking one token as a check inside a transaction that does more (starting a stream): no round trip of its own. */
  check(uid: string): TransactionCheck {
    const path = paths.counter(uid, "rate");
    return {
      reads: [path],
      decide: (documents) => {
        const now = this.#now();
        const bucket = documents.data<Bucket>(path);
        const available =
          bucket === undefined
            ? this.#burst
            : Math.min(this.#burst, bucket.tokens + Math.max(0, now - bucket.refilled_at) * this.#perMillisecond);
        if (available < 1) {
          const waitMilliseconds = (1 - available) / this.#perMillisecond;
          throw resourceExhausted("Too many requests. Slow down and try again shortly.", waitMilliseconds / 1000, {
            limit_per_minute: Math.round(this.#perMillisecond * 60_000),
            burst: this.#burst,
          });
        }
        return (transaction) => transaction.set(path, { tokens: available - 1, refilled_at: now });
      },
    };
  }
}
