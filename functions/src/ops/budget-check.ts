import { resourceExhausted } from "../errors/app-error.ts";
import { readTogether, type TransactionCheck } from "../store/transaction-check.ts";
import { paths } from "../store/paths.ts";
import type { DocumentDatabase } from "../database/document-database.ts";
import {
  chargedMonth,
  dollarsOf,
  ledgerPeriod,
  withReservation,
  type ChargeRecord,
  type UsageMonthRecord,
} from "../store/usage-ledger.ts";
import { planOf, type PlanClaims, type Tier, type UserPlanRecord } from "./user-plan.ts";

/** Monthly budgets by tier, in micro-dollars; 0 is no money limit. */
export interface TierBudgets {
  readonly free: number;
  readonly paid: number;
}

/** The user's monthly budget in micro-dollars (their own, else their tier's), or undefined for none. */
export function budgetOf(plan: { readonly tier: Tier; readonly budgetMicros?: number }, budgets: TierBudgets) {
  if (plan.budgetMicros !== undefined) return plan.budgetMicros;
  const tierBudget = budgets[plan.tier];
  return tierBudget === 0 ? undefined : tierBudget;
}

/**
 * Reserves a generation's most expensive outcome (`charge`) against the user's monthly budget, inside the
 * transaction that starts it: the reservation and the generation's documents are written together or not at
 * all, and concurrent requests of one user serialise on the month's ledger document, so they cannot overspend.
 * A request that does not fit is refused with `429` and `details.reason: "budget"` before anything is written.
 */
export function budgetCheck(options: {
  readonly uid: string;
  readonly claims: PlanClaims;
  readonly budgets: TierBudgets;
  readonly charge: ChargeRecord;
  readonly now: Date;
}): TransactionCheck {
  const { uid, charge, now } = options;
  const ledgerPath = paths.usageMonth(uid, charge.month, charge.provider);
  return {
    reads: [paths.user(uid), ledgerPath],
    decide: (documents) => {
      const plan = planOf(documents.data<UserPlanRecord>(paths.user(uid)), options.claims);
      const ledger = chargedMonth(documents, uid, charge, now);
      const budget = budgetOf(plan, options.budgets);
      const committed = ledger.spent_micros + ledger.reserved_micros;
      if (budget !== undefined && committed + charge.reserved_micros > budget) {
        const { end } = ledgerPeriod(now);
        const remaining = Math.max(0, budget - committed);
        throw resourceExhausted(
          `This request may cost up to $${dollarsOf(charge.reserved_micros).toFixed(4)}, more than the ` +
            `$${dollarsOf(remaining).toFixed(4)} left of your monthly budget of $${dollarsOf(budget).toFixed(2)}. ` +
            `The budget renews at ${end.toISOString()}.`,
          (end.getTime() - now.getTime()) / 1000,
          {
            reason: "budget",
            budget_usd: dollarsOf(budget),
            remaining_usd: dollarsOf(remaining),
            needed_usd: dollarsOf(charge.reserved_micros),
            resets_at: end.toISOString(),
          },
        );
      }
      const reserved = withReservation(ledger, charge, now);
      return (writer) => writer.set(ledgerPath, reserved);
    },
  };
}

/**
 * Reserves `micros` more for a generation already running (another round of tool calls), if the user's budget
 * still has room: the ledger and the record's `charge` move together. False when it does not fit (the caller
 * ends the generation there, keeping what it made), and for a record that is gone or no longer running (ended
 * and settled by someone else: nothing more may be spent on it); true for a running one that holds no charge
 * (it predates budgets).
 */
export async function extendWithinBudget(
  database: DocumentDatabase,
  options: {
    readonly uid: string;
    readonly claims: PlanClaims;
    readonly budgets: TierBudgets;
    /** The message or job that holds the charge. */
    readonly recordPath: string;
    readonly micros: number;
    readonly now: Date;
  },
): Promise<boolean> {
  const { uid, recordPath, micros, now } = options;
  return database.transaction(async (transaction) => {
    const record = (await transaction.get<{ charge?: ChargeRecord; status?: string }>(recordPath))?.data;
    if (record?.status !== "streaming") return false;
    const charge = record.charge;
    if (charge === undefined) return true;
    const ledgerPath = paths.usageMonth(uid, charge.month, charge.provider);
    const documents = await readTogether(transaction, [paths.user(uid), ledgerPath]);
    const plan = planOf(documents.data<UserPlanRecord>(paths.user(uid)), options.claims);
    const ledger = chargedMonth(documents, uid, charge, now);
    const budget = budgetOf(plan, options.budgets);
    if (budget !== undefined && ledger.spent_micros + ledger.reserved_micros + micros > budget) return false;
    const extended: UsageMonthRecord = { ...ledger, reserved_micros: ledger.reserved_micros + micros, updated_at: now };
    transaction.set(ledgerPath, extended);
    transaction.update(recordPath, { charge: { ...charge, reserved_micros: charge.reserved_micros + micros } });
    return true;
  });
}
