import type { DocumentDatabase } from "../database/document-database.ts";
import { invalidArgument } from "../errors/app-error.ts";
import type { AccountUsage, AdminUsage, ProviderRun, UsageMonth } from "../contract/resources.ts";
import { budgetOf, type TierBudgets } from "../ops/budget-check.ts";
import { planOf, type PlanClaims, type UserPlanRecord } from "../ops/user-plan.ts";
import { paths } from "../store/paths.ts";
import { queries } from "../store/queries.ts";
import { dollarsOf, emptyMonth, ledgerPeriod, microsOf, type UsageMonthRecord } from "../store/usage-ledger.ts";

/** Days in the per-day series of `GET /account/usage`. */
const SERIES_DAYS = 30;
const DAY_MS = 86_400_000;

interface UsageReportOptions {
  readonly database: DocumentDatabase;
  readonly budgets: TierBudgets;
  readonly now: () => number;
}

/**
 * What users and admins see of spending: a user's month (budget, spent, held by running generations, by kind)
 * with a per-day series, every user's month ranked by spend, and an admin's per-user budget. Everything comes
 * from the month ledgers that reservations and settlements write, so a month's total is exactly the sum of its
 * receipts.
 */
export class UsageReport {
  readonly #options: UsageReportOptions;

  constructor(options: UsageReportOptions) {
    this.#options = options;
  }

  /** The caller's month so far and the last 30 days, for one provider run (live spending, or the simulations). */
  async forUser(uid: string, claims: PlanClaims, provider: ProviderRun): Promise<AccountUsage> {
    const { database, budgets } = this.#options;
    const now = new Date(this.#options.now());
    const period = ledgerPeriod(now);
    const earliest = new Date(now.getTime() - (SERIES_DAYS - 1) * DAY_MS);
    const months = [...new Set([ledgerPeriod(earliest).month, period.month])];
    const [plan, ...ledgers] = await Promise.all([
      database.get<UserPlanRecord>(paths.user(uid)).then((user) => planOf(user?.data, claims)),
      ...months.map(
        async (month) =>
          (await database.get<UsageMonthRecord>(paths.usageMonth(uid, month, provider)))?.data ??
          emptyMonth(uid, month, provider, now),
      ),
    ]);
    const current = ledgers.at(-1) ?? emptyMonth(uid, period.month, provider, now);
    const days = Array.from({ length: SERIES_DAYS }, (_, index) => {
      const date = new Date(earliest.getTime() + index * DAY_MS).toISOString().slice(0, 10);
      const totals = ledgers.find((ledger) => ledger.month === date.slice(0, 7))?.days[date];
      return { date, cost_usd: dollarsOf(totals?.cost_micros ?? 0), requests: totals?.requests ?? 0 };
    });
    return {
      ok: true,
      provider,
      month: monthView(current, period.start, budgetOf(plan, budgets)),
      days,
    };
  }

  /** The current ledger month (`YYYY-MM`, UTC). */
  currentMonth(): string {
    return ledgerPeriod(new Date(this.#options.now())).month;
  }

  /** Every user's spending in `month` (`YYYY-MM`), biggest first, a page at a time. */
  async ranking(month: string, provider: ProviderRun, limit: number, cursor: string | undefined): Promise<AdminUsage> {
    const start = new Date(`${month}-01T00:00:00.000Z`);
    if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month) || Number.isNaN(start.getTime())) {
      throw invalidArgument("Invalid month.", { month: "Must be YYYY-MM" });
    }
    const after = cursor === undefined ? undefined : decodeCursor(cursor);
    const found = await this.#options.database.query<UsageMonthRecord>(
      queries.usageByMonth(month, provider, limit + 1, after),
    );
    const page = found.slice(0, limit).map(({ data }) => data);
    const last = page.at(-1);
    return {
      ok: true,
      month,
      provider,
      users: page.map((ledger) => ({
        uid: ledger.uid,
        cost_usd: dollarsOf(ledger.spent_micros),
        reserved_usd: dollarsOf(ledger.reserved_micros),
        requests: ledger.requests,
      })),
      next_cursor:
        found.length > limit && last !== undefined
          ? Buffer.from(JSON.stringify([last.spent_micros, last.uid])).toString("base64url")
          : null,
    };
  }

  /** Sets (or, with null, removes) one user's monthly budget, kept on `users/{uid}` beside their tier. */
  async setBudget(uid: string, monthlyUsd: number | null): Promise<{ monthly_usd: number | null }> {
    const { database } = this.#options;
    const path = paths.user(uid);
    await database.transaction(async (transaction) => {
      const user = await transaction.get<UserPlanRecord>(path);
      if (user === null && monthlyUsd === null) return;
      const { monthly_budget_micros: _old, ...rest } = user?.data ?? {};
      transaction.set(path, {
        ...rest,
        ...(monthlyUsd === null ? {} : { monthly_budget_micros: microsOf(monthlyUsd) }),
      });
    });
    return { monthly_usd: monthlyUsd };
  }
}

function monthView(ledger: UsageMonthRecord, start: Date, budget: number | undefined): UsageMonth {
  const committed = ledger.spent_micros + ledger.reserved_micros;
  return {
    start: start.toISOString(),
    cost_usd: dollarsOf(ledger.spent_micros),
    reserved_usd: dollarsOf(ledger.reserved_micros),
    budget_usd: budget === undefined ? null : dollarsOf(budget),
    remaining_usd: budget === undefined ? null : dollarsOf(Math.max(0, budget - committed)),
    requests: ledger.requests,
    by_kind: {
      text: dollarsOf(ledger.by_kind.text),
      image: dollarsOf(ledger.by_kind.image),
      video: dollarsOf(ledger.by_kind.video),
      search: dollarsOf(ledger.by_kind.search),
    },
  };
}

function decodeCursor(cursor: string): unknown[] {
  try {
    const values: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (
      Array.isArray(values) &&
      values.length === 2 &&
      typeof values[0] === "number" &&
      typeof values[1] === "string"
    ) {
      return values;
    }
  } catch {
    // Falls through to the same refusal as any other malformed cursor.
  }
  throw invalidArgument("Invalid cursor.", { cursor: "Use next_cursor from the previous page" });
}
