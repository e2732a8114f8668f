import { readFileSync } from "node:fs";
import type { z } from "zod";

/**
 * Reads an operator's JSON file and checks it against `schema`; the error says what is wrong (the file's own
 * words never reach it, so a file that holds names of secrets is safe to name in a start-up error).
 */
export function readJsonFile<Schema extends z.ZodType>(path: string, schema: Schema): z.output<Schema> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new Error(`cannot be read as JSON (${error instanceof Error ? error.message : String(error)})`, {
      cause: error,
    });
  }
  const result = schema.safeParse(parsed);
  if (!result.success) {
    throw new Error(result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; "));
  }
  return result.data;
}
