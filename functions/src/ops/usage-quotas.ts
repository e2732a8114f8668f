import { planOf, type PlanClaims, type Tier, type UserPlanRecord } from "./user-plan.ts";
import { resourceExhausted } from "../errors/app-error.ts";
import type { TransactionCheck } from "../store/transaction-check.ts";
import { paths } from "../store/paths.ts";
import { ledgerPeriod } from "../store/usage-ledger.ts";

/**
 * Quotas consumed inside the transaction that starts a generation: the count and the generation's documents
 * are written together or not at all, so a refused or failed start costs nothing and parallel requests cannot
 * overshoot.
 */

/**
 * Monthly generations per user by tier (defaults: `RATE_LIMIT_FREE` 50, `RATE_LIMIT_PAID` 500; 0 means no limit).
 * Every chat message, image and video counts one.
 */
export function monthlyQuotaCheck(options: {
  readonly uid: string;
  readonly claims: PlanClaims;
  readonly limits: Readonly<Record<Tier, number>>;
  readonly now: Date;
}): TransactionCheck {
  const { month: key, end: resetsAt } = ledgerPeriod(options.now);
  const path = paths.counter(options.uid, `messages-${key}`);
  return {
    reads: [paths.user(options.uid), path],
    decide: (documents) => {
      const { tier } = planOf(documents.data<UserPlanRecord>(paths.user(options.uid)), options.claims);
      const limit = options.limits[tier];
      if (limit === 0) return undefined;
      const used = documents.data<{ count: number }>(path)?.count ?? 0;
      if (used >= limit) {
        throw resourceExhausted(
          `You have used all ${limit} messages of the ${tier} tier this month. The limit resets at ${resetsAt.toISOString()}.`,
          (resetsAt.getTime() - options.now.getTime()) / 1000,
          { limit, tier, resets_at: resetsAt.toISOString() },
        );
      }
      return (writer) => writer.set(path, { count: used + 1, month: key, updated_at: options.now });
    },
  };
}

/**
 * A sliding one-hour window of grounded (web search) requests per user: at most `limit` in any hour. The
 * window keeps the times of the recent requests (never more than `limit`), so `Retry-After` is exact.
 */
export function hourlyGroundingCheck(options: {
  readonly uid: string;
  readonly limit: number;
  readonly now: Date;
}): TransactionCheck {
  const hour = 3_600_000;
  const path = paths.counter(options.uid, "grounding");
  return {
    reads: [path],
    decide: (documents) => {
      const now = options.now.getTime();
      const recent = (documents.data<{ times: number[] }>(path)?.times ?? []).filter((time) => now - time < hour);
      if (recent.length >= options.limit) {
        const oldest = Math.min(...recent);
        throw resourceExhausted(
          `Web search is limited to ${options.limit} requests per hour. Try again later or turn grounding off.`,
          (oldest + hour - now) / 1000,
          { limit: options.limit, window_seconds: 3600 },
        );
      }
      return (writer) => writer.set(path, { times: [...recent, now].sort((a, b) => a - b), updated_at: options.now });
    },
  };
}
