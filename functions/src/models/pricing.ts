import type { TextUsage } from "../providers/text-provider.ts";
import { microsOf } from "../store/usage-ledger.ts";
import type { ModelPrice, PriceTable, SearchPrice } from "./price-table.ts";

/**
 * Money from the price table, always in integer micro-dollars (one millionth of a US dollar), so that sums are
 * exact: a month's total is the sum of its receipts to the last micro-dollar. Each amount is rounded up once,
 * per receipt line, never per token.
 */

/** Rounds up, forgiving the last bits of floating-point error (0.75 × 1000 is 750, not 751). */
function roundUp(micros: number): number {
  return Math.ceil(micros - 1e-6);
}

export type SearchDepth = "basic" | "advanced";

function inForce(entry: { readonly from?: string; readonly until?: string }, day: string): boolean {
  return (entry.from === undefined || entry.from <= day) && (entry.until === undefined || day < entry.until);
}

/** Replaces the built-in entries of each model (and the search prices) the operator's file names. */
export function withOverrides(table: PriceTable, overrides: Partial<PriceTable>): PriceTable {
  const replaced = new Set((overrides.models ?? []).map((entry) => entry.model));
  return {
    models: [...table.models.filter((entry) => !replaced.has(entry.model)), ...(overrides.models ?? [])],
    search: overrides.search !== undefined && overrides.search.length > 0 ? overrides.search : table.search,
  };
}

export class Pricing {
  readonly #table: PriceTable;

  constructor(table: PriceTable) {
    this.#table = table;
  }

  /** The price of `model` in force at `at`, if the table has one. */
  model(model: string, at: Date): ModelPrice | undefined {
    const day = at.toISOString().slice(0, 10);
    return this.#table.models.find((entry) => entry.model === model && inForce(entry, day));
  }

  search(at: Date): SearchPrice | undefined {
    const day = at.toISOString().slice(0, 10);
    return this.#table.search.find((entry) => inForce(entry, day));
  }

  /**
   * Tokens at the model's rates: fresh input, cached input (part of `inputTokens`), and output with thinking
   * (billed as output). A model without a text price (an operator's own server) costs nothing.
   */
  text(model: string, usage: TextUsage, at: Date): number {
    const rates = this.model(model, at)?.text;
    if (rates === undefined) return 0;
    const cached = Math.min(usage.cachedTokens ?? 0, usage.inputTokens);
    return roundUp(
      (usage.inputTokens - cached) * rates.input +
        cached * (rates.cached_input ?? rates.input) +
        (usage.outputTokens + (usage.thinkingTokens ?? 0)) * rates.output,
    );
  }

  /** `count` pictures at `size`; with no size, the dearest size the model is priced at (a reservation). */
  images(model: string, count: number, size: string | undefined, at: Date): number {
    const prices = this.model(model, at)?.image;
    if (prices === undefined) return 0;
    const price = size === undefined ? undefined : prices[size];
    return count * microsOf(price ?? Math.max(0, ...Object.values(prices)));
  }

  /** `seconds` of video at `resolution`; with none (or one not priced), the dearest one (a reservation). */
  video(model: string, seconds: number, resolution: string | undefined, at: Date): number {
    const prices = this.model(model, at)?.video;
    if (prices === undefined) return 0;
    const price = resolution === undefined ? undefined : prices[resolution];
    return Math.ceil(seconds) * microsOf(price ?? Math.max(0, ...Object.values(prices)));
  }

  /** `queries` web searches at `depth`. */
  searches(depth: SearchDepth, queries: number, at: Date): number {
    const price = this.search(at);
    if (price === undefined) return 0;
    return queries * price.credits[depth] * microsOf(price.credit);
  }

  /** The models of `ids` that have no price for their kind at `at` (a start-up check names them). */
  unpriced(entries: readonly { readonly id: string; readonly kind: "text" | "image" | "video" }[], at: Date): string[] {
    return entries
      .filter((entry) => {
        const price = this.model(entry.id, at);
        return price?.[entry.kind] === undefined;
      })
      .map((entry) => entry.id);
  }
}
