import { z } from "zod";
import { readJsonFile } from "./json-file.ts";
import { modelPriceSchema, searchPriceSchema, type PriceTable } from "../models/price-table.ts";

/**
 * The operator's prices (`PRICES_FILE`): a JSON file `{"models": [...], "search": [...]}` in the price table's
 * own shape, checked at start-up. Each model it names replaces every built-in price of that model (a negotiated
 * rate, an operator's own OpenAI-compatible models); `search`, when given, replaces the search prices.
 */
export const pricesFileSchema = z
  .object({
    models: z.array(modelPriceSchema).max(500).default([]),
    search: z.array(searchPriceSchema).max(20).default([]),
  })
  .strict();

/** Reads and checks the prices file; the problem is the error. */
export function readPricesFile(path: string): PriceTable {
  return readJsonFile(path, pricesFileSchema);
}
