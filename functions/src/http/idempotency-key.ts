import { CLIENT_ID_PATTERN, CLIENT_ID_RULE } from "../contract/identifiers.ts";
import { AppError, invalidArgument } from "../errors/app-error.ts";
import type { RequestContext } from "./request-context.ts";

/**
 * The JSON body of a generating request, with the standard `Idempotency-Key` header taken as its `request_id`, so
 * that a client library's automatic retry of the same POST can never start a second generation. A key that is
 * not an id is a 400; a key and a `request_id` that disagree are a 409, before anything is written.
 */
export async function readIdempotentBody(context: RequestContext): Promise<unknown> {
  const body = await context.readJson();
  // The header's draft standard quotes the key (a structured-field string); a bare key is common too.
  const key = context
    .header("idempotency-key")
    ?.trim()
    .replace(/^"(.*)"$/, "$1");
  if (key === undefined || key === "") return body;
  if (!CLIENT_ID_PATTERN.test(key)) {
    throw invalidArgument("Invalid Idempotency-Key header.", { "Idempotency-Key": CLIENT_ID_RULE });
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) return body ?? { request_id: key };
  const requestId: unknown = (body as { request_id?: unknown }).request_id;
  if (typeof requestId === "string" && requestId !== key) {
    throw new AppError("conflict", "The Idempotency-Key header and the body's request_id differ.", {
      details: { fields: { request_id: "Must equal the Idempotency-Key header when both are sent" } },
    });
  }
  // A request_id of the wrong type stays for the body's schema to refuse (400).
  return requestId === undefined || typeof requestId === "string" ? { ...body, request_id: key } : body;
}
