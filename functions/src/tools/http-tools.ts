import { z } from "zod";
import type { HttpToolDefinition } from "../config/tools-file.ts";
import type { ChatTool, ToolContext, ToolOutcome } from "./chat-tool.ts";
import { toolFailure } from "./tool-registry.ts";

/**
 * A downstream HTTP tool of the operator's tools file. Arguments are checked against the tool's own JSON Schema
 * before anything is sent; the request goes to the file's URL with the file's method (JSON body, or the query
 * string for GET and DELETE) and its auth header, whose value is the named secret's. The answer is read up to
 * `maxResultBytes` and cut there (marked `truncated`); a non-2xx answer, a timeout (the file's `timeout_seconds`,
 * else `defaultTimeoutSeconds`) or an unreachable service comes back to the model as `ok: false` in words that
 * carry no URL, header or secret; a redirect is refused (the model may only reach the configured URL); a stop
 * aborts the request at once.
 */

interface HttpToolOptions {
  /** Seconds a call may take when the file gives no `timeout_seconds` (`FUNCTION_TIMEOUT_SECONDS`). */
  readonly defaultTimeoutSeconds: number;
  /** What the model sees of a response at most (`TOOL_RESULT_MAX_BYTES`); the rest is cut. */
  readonly maxResultBytes: number;
  /** The secrets' values by name. */
  readonly secret: (name: string) => string | undefined;
}

/** Reads at most `limit` bytes of a response body, cancelling the rest. */
async function readCapped(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
): Promise<{ text: string; cut: boolean }> {
  if (body === null) return { text: "", cut: false };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let cut = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const room = limit - size;
    if (value.length > room) {
      chunks.push(value.subarray(0, room));
      cut = true;
      await reader.cancel();
      break;
    }
    chunks.push(value);
    size += value.length;
  }
  // A cut can split a character: the decoder replaces the broken end rather than fail.
  return { text: new TextDecoder().decode(Buffer.concat(chunks)), cut };
}

export function httpTool(definition: HttpToolDefinition, options: HttpToolOptions): ChatTool {
  const timeoutMs = (definition.timeout_seconds ?? options.defaultTimeoutSeconds) * 1000;
  // Arguments the schema does not name are refused (unless the file allows them), so the model cannot add a
  // field the service would act on; nor may it replace a query parameter the configured URL fixes.
  const closed = z.fromJSONSchema({ additionalProperties: false, ...definition.parameters });
  const fixedQuery = new Set(new URL(definition.url).searchParams.keys());
  return {
    name: definition.name,
    description: definition.description,
    parameters: closed,
    declaredParameters: definition.parameters,
    approval: definition.approval,
    async run(input: unknown, context: ToolContext): Promise<ToolOutcome> {
      const headers: Record<string, string> = { Accept: "application/json" };
      if (definition.auth !== undefined) {
        const value = options.secret(definition.auth.secret);
        if (value === undefined) return toolFailure(`The ${definition.name} service is not configured.`);
        headers[definition.auth.header] = `${definition.auth.prefix}${value}`;
      }
      const url = new URL(definition.url);
      let body: string | undefined;
      if (definition.method === "GET" || definition.method === "DELETE") {
        const entries = Object.entries(input as Record<string, unknown>);
        const fixed = entries.find(([key]) => fixedQuery.has(key));
        if (fixed !== undefined) return toolFailure(`The argument ${fixed[0]} is set by the tool itself.`);
        for (const [key, value] of entries) {
          url.searchParams.set(key, typeof value === "string" ? value : JSON.stringify(value));
        }
      } else {
        headers["Content-Type"] = "application/json";
        body = JSON.stringify(input);
      }
      const timeout = AbortSignal.timeout(timeoutMs);
      let response: Response;
      try {
        response = await fetch(url, {
          method: definition.method,
          headers,
          ...(body === undefined ? {} : { body }),
          redirect: "error",
          signal: AbortSignal.any([context.signal, timeout]),
        });
      } catch (error) {
        if (context.signal.aborted) throw error;
        return toolFailure(
          timeout.aborted
            ? `The ${definition.name} service did not answer within ${timeoutMs / 1000} seconds.`
            : `The ${definition.name} service could not be reached.`,
        );
      }
      let read: { text: string; cut: boolean };
      try {
        read = await readCapped(response.body, options.maxResultBytes);
      } catch (error) {
        if (context.signal.aborted) throw error;
        return toolFailure(`The ${definition.name} service's answer was cut off.`);
      }
      if (!response.ok) return toolFailure(`The ${definition.name} service answered HTTP ${response.status}.`);
      let result: unknown = read.text;
      if (!read.cut) {
        try {
          result = JSON.parse(read.text);
        } catch {
          // Not JSON: the model reads it as text.
        }
      }
      return {
        ok: true,
        summary: `${definition.name} answered (${read.text.length} characters${read.cut ? ", cut" : ""})`,
        response: { ok: true, status: response.status, result, ...(read.cut ? { truncated: true } : {}) },
      };
    },
  };
}
