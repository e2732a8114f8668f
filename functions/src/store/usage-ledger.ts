import type { Transaction } from "../database/document-database.ts";
import type { Usage } from "../contract/chat-events.ts";
import type { ProviderRun } from "../contract/resources.ts";
import { paths } from "./paths.ts";
import type { ReadDocuments } from "./transaction-check.ts";

/**
 * The money side of a generation. Each generation **reserves** its most expensive outcome in the transaction
 * that starts it (the reservation is kept on its message or job as a {@link ChargeRecord}), and is **settled**
 * in the transaction that ends it: the reservation is released and the real cost spent. Whoever ends it (the
 * generator, a stop, the sweep, a cancellation) settles it, once: the charge leaves the record in the same
 * write. A failed generation costs nothing.
 *
 * The ledger is one document per user, month and provider run (`users/{uid}/usage/2026-12`, and
 * `2026-12-simulated` for the labelled offline simulations, which never mix with real spending). Amounts are
 * integer micro-dollars, so a month's total is exactly the sum of its receipts.
 */

export type UsageKind = "text" | "image" | "video" | "search";

const MICROS_PER_USD = 1_000_000;

/** Dollars as clients see them, from micro-dollars as stored. */
export function dollarsOf(micros: number): number {
  return micros / MICROS_PER_USD;
}

/** Micro-dollars from an amount in dollars (a price or a budget: six decimals at most matter). */
export function microsOf(dollars: number): number {
  return Math.round(dollars * MICROS_PER_USD);
}

/** A reservation held by an unfinished generation. */
export interface ChargeRecord {
  /** The ledger month (`YYYY-MM`, UTC) and day (`YYYY-MM-DD`) the generation started in: it is settled there. */
  readonly month: string;
  readonly day: string;
  readonly provider: ProviderRun;
  readonly kind: Exclude<UsageKind, "search">;
  readonly reserved_micros: number;
}

/** A receipt as stored: the usage and its cost in micro-dollars (the search part of it apart). */
export interface UsageRecord extends Omit<Usage, "cost_usd"> {
  readonly cost_micros: number;
  /** The part of `cost_micros` that paid for web searches. */
  readonly search_micros?: number;
}

interface DayTotals {
  readonly cost_micros: number;
  readonly requests: number;
}

/** `users/{uid}/usage/{month}[-simulated]`. */
export interface UsageMonthRecord {
  readonly uid: string;
  readonly month: string;
  readonly provider: ProviderRun;
  /** Held by generations still running. */
  readonly reserved_micros: number;
  /** Spent by finished ones: the sum of their receipts. */
  readonly spent_micros: number;
  /** Generations started. */
  readonly requests: number;
  readonly by_kind: Readonly<Record<UsageKind, number>>;
  /** By day of the month (`YYYY-MM-DD`). */
  readonly days: Readonly<Record<string, DayTotals>>;
  readonly updated_at: Date;
}

/** The ledger month and day of a moment (UTC), and when that month ends. */
export function ledgerPeriod(at: Date): { month: string; day: string; start: Date; end: Date } {
  const year = at.getUTCFullYear();
  const month = at.getUTCMonth();
  return {
    month: `${String(year)}-${String(month + 1).padStart(2, "0")}`,
    day: at.toISOString().slice(0, 10),
    start: new Date(Date.UTC(year, month, 1)),
    end: new Date(Date.UTC(year, month + 1, 1)),
  };
}

export function emptyMonth(uid: string, month: string, provider: ProviderRun, now: Date): UsageMonthRecord {
  return {
    uid,
    month,
    provider,
    reserved_micros: 0,
    spent_micros: 0,
    requests: 0,
    by_kind: { text: 0, image: 0, video: 0, search: 0 },
    days: {},
    updated_at: now,
  };
}

/** The month's ledger `charge` goes to, from documents read together (an empty one when there is none yet). */
export function chargedMonth(documents: ReadDocuments, uid: string, charge: ChargeRecord, now: Date): UsageMonthRecord {
  return (
    documents.data<UsageMonthRecord>(paths.usageMonth(uid, charge.month, charge.provider)) ??
    emptyMonth(uid, charge.month, charge.provider, now)
  );
}

export async function readUsageMonth(
  transaction: Pick<Transaction, "get">,
  uid: string,
  month: string,
  provider: ProviderRun,
  now: Date,
): Promise<UsageMonthRecord> {
  const found = await transaction.get<UsageMonthRecord>(paths.usageMonth(uid, month, provider));
  return found?.data ?? emptyMonth(uid, month, provider, now);
}

/** The ledger with `charge` reserved and one more request counted on its day. */
export function withReservation(ledger: UsageMonthRecord, charge: ChargeRecord, now: Date): UsageMonthRecord {
  const day = ledger.days[charge.day] ?? { cost_micros: 0, requests: 0 };
  return {
    ...ledger,
    reserved_micros: ledger.reserved_micros + charge.reserved_micros,
    requests: ledger.requests + 1,
    days: { ...ledger.days, [charge.day]: { ...day, requests: day.requests + 1 } },
    updated_at: now,
  };
}

/**
 * Settles the charge of a record (a message or a job) that has just ended, inside the transaction that ends it:
 * the reservation is released and the receipt spent on the charge's month, day and kinds, nothing for a
 * `failed` one. Returns the record as it is to be stored: without its charge, with its receipt (zero for a
 * failure). A record without a charge is returned as it is. It reads the ledger before writing it, so it comes
 * after the transaction's other reads, as Firestore requires.
 */
export async function settleRecord<Ended extends { readonly charge?: ChargeRecord; readonly usage?: UsageRecord }>(
  transaction: Transaction,
  uid: string,
  record: Ended,
  failed: boolean,
  now: Date,
): Promise<Ended> {
  const { charge, usage, ...rest } = record;
  if (charge === undefined) return record;
  const receipt = failed ? freeOfCharge(usage) : usage;
  const ledger = await readUsageMonth(transaction, uid, charge.month, charge.provider, now);
  const cost = receipt?.cost_micros ?? 0;
  const search = Math.min(receipt?.search_micros ?? 0, cost);
  const day = ledger.days[charge.day] ?? { cost_micros: 0, requests: 0 };
  const settled: UsageMonthRecord = {
    ...ledger,
    reserved_micros: Math.max(0, ledger.reserved_micros - charge.reserved_micros),
    spent_micros: ledger.spent_micros + cost,
    by_kind: {
      ...ledger.by_kind,
      [charge.kind]: ledger.by_kind[charge.kind] + cost - search,
      search: ledger.by_kind.search + search,
    },
    days: { ...ledger.days, [charge.day]: { ...day, cost_micros: day.cost_micros + cost } },
    updated_at: now,
  };
  transaction.set(paths.usageMonth(uid, charge.month, charge.provider), settled);
  // The record less its charge: the same type, since `charge` is optional on every record that holds one.
  return { ...rest, ...(receipt === undefined ? {} : { usage: receipt }) } as Ended;
}

/** A failed generation's receipt: what it used, at no cost. */
function freeOfCharge(usage: UsageRecord | undefined): UsageRecord | undefined {
  if (usage === undefined) return undefined;
  const { search_micros: _search, ...rest } = usage;
  return { ...rest, cost_micros: 0 };
}

/** A receipt as clients see it: dollars, not micro-dollars. */
export function usageView(usage: UsageRecord): Usage {
  const { cost_micros, search_micros: _search, ...counts } = usage;
  return { ...counts, cost_usd: dollarsOf(cost_micros) };
}
