import { z } from "zod";
import { BUILT_IN_TOOLS } from "../contract/tool-names.ts";
import { readJsonFile } from "./json-file.ts";

/**
 * The operator's downstream HTTP tools (`TOOLS_FILE`): one JSON file, checked against {@link toolsFileSchema}
 * at start-up, so a bad file stops the service with the problem named rather than fail a user's chat later. The
 * model only ever supplies arguments; the URL, the method and the auth header are the file's, and the header's
 * value comes from a secret named here and listed in `TOOL_SECRETS` (an environment variable; in production a
 * Secret Manager secret bound at deploy).
 */

const TOOL_NAME = /^[a-z][a-z0-9_]{0,63}$/;
const HEADER_NAME = /^[A-Za-z0-9-]{1,64}$/;
const SECRET_NAME = /^[A-Z][A-Z0-9_]{0,99}$/;

export const toolsFileSchema = z.object({
  tools: z
    .array(
      z.object({
        name: z
          .string()
          .regex(TOOL_NAME, "lower-case letters, digits and _, starting with a letter")
          .refine((name) => !(BUILT_IN_TOOLS as readonly string[]).includes(name), "is a built-in tool's name"),
        description: z.string().min(1).max(1_000),
        /** The arguments' JSON Schema: an object schema. */
        parameters: z.looseObject({ type: z.literal("object") }),
        url: z.url({ protocol: /^https?$/ }),
        method: z.enum(["GET", "POST", "PUT", "PATCH", "DELETE"]).default("POST"),
        auth: z
          .object({
            header: z.string().regex(HEADER_NAME),
            /** The environment variable (or Secret Manager secret) holding the header's value. */
            secret: z.string().regex(SECRET_NAME),
            /** Put before the secret's value, e.g. `Bearer `. */
            prefix: z.string().max(32).default(""),
          })
          .optional(),
        timeout_seconds: z.number().positive().max(540).optional(),
        approval: z.enum(["never", "always"]).default("never"),
      }),
    )
    .max(64)
    .refine((tools) => new Set(tools.map((tool) => tool.name)).size === tools.length, "tool names must be unique"),
});

export type HttpToolDefinition = z.output<typeof toolsFileSchema>["tools"][number];

/** Reads and checks the tools file; the problem (never a secret: the file holds only names) is the error. */
export function readToolsFile(path: string): HttpToolDefinition[] {
  return readJsonFile(path, toolsFileSchema).tools;
}
