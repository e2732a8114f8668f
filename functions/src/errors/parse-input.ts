import type { z } from "zod";
import { invalidArgument } from "./app-error.ts";

/**
 * Validates a request body (or query) with a zod schema. Failures become one `invalid_argument` error whose
 * `details.fields` names each bad field (`attachments.0.path`) with a short reason.
 */
export function parseInput<Schema extends z.ZodType>(schema: Schema, input: unknown): z.output<Schema> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const fields: Record<string, string> = {};
  for (const issue of result.error.issues) {
    const name = issue.path.length === 0 ? "body" : issue.path.join(".");
    fields[name] ??= issue.message;
  }
  throw invalidArgument(`Invalid request: ${Object.keys(fields).join(", ")}.`, fields);
}
