import type { Page } from "../../chat/history-service.ts";
import { invalidArgument } from "../../errors/app-error.ts";
import type { RequestContext } from "../request-context.ts";

/** A listing's `limit` (1 to `maximum`, else 400) and `cursor` query parameters. */
export function pageOf(context: RequestContext, defaultLimit: number, maximum: number): Page {
  const rawLimit = context.query.get("limit");
  const limit = rawLimit === null ? defaultLimit : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > maximum) {
    throw invalidArgument("Invalid limit.", { limit: `A whole number from 1 to ${maximum}` });
  }
  const cursor = context.query.get("cursor");
  return { limit, cursor: cursor === null || cursor === "" ? undefined : cursor };
}
