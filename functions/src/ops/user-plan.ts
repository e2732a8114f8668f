import { microsOf } from "../store/usage-ledger.ts";

export type Tier = "free" | "paid";

/** What `users/{uid}` may say about a user's plan (written by admins and `npm run set-claims`). */
export interface UserPlanRecord {
  readonly tier?: unknown;
  /** An admin's monthly budget for this user, in micro-dollars; absent: the tier's. */
  readonly monthly_budget_micros?: unknown;
}

/** What the caller's token says of their plan (custom claims), which wins over `users/{uid}`. */
export interface PlanClaims {
  readonly tier: Tier | undefined;
  /** In US dollars. */
  readonly budgetUsd?: number;
}

export interface UserPlan {
  readonly tier: Tier;
  /** The admin's budget for this user, when one is set. */
  readonly budgetMicros?: number;
}

/**
 * The user's plan: the tier from the `tier` custom claim when the token has one, else the `tier` field of
 * `users/{uid}` (`user`), else free; the user's own budget likewise from the `budget_usd` claim, else
 * `monthly_budget_micros` (set through the admin API), else none (the tier's).
 */
export function planOf(user: UserPlanRecord | undefined, claims: PlanClaims): UserPlan {
  const stored = user?.monthly_budget_micros;
  const budget =
    claims.budgetUsd !== undefined
      ? microsOf(claims.budgetUsd)
      : typeof stored === "number" && Number.isInteger(stored) && stored >= 0
        ? stored
        : undefined;
  return {
    tier: claims.tier ?? (user?.tier === "paid" ? "paid" : "free"),
    ...(budget === undefined ? {} : { budgetMicros: budget }),
  };
}
