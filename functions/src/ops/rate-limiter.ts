import type { DocumentDatabase } from "../database/document-database.ts";
import { resourceExhausted } from "../errors/app-error.ts";
import { paths } from "../store/paths.ts";

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
    const path = paths.counter(uid, "rate");
    await this.#database.transaction(async (transaction) => {
      const now = this.#now();
      const bucket = (await transaction.get<Bucket>(path))?.data;
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
      transaction.set(path, { tokens: available - 1, refilled_at: now });
    });
  }
}
