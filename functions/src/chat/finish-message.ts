import type { DocumentDatabase } from "../database/document-database.ts";
import type { ErrorCode } from "../contract/error-codes.ts";
import { paths } from "../store/paths.ts";
import { toolCallEventOf } from "./tool-call-view.ts";
import { lastSignOfLife, type MessageRecord, type RequestRecord, type ToolCallRecord } from "../store/records.ts";
import type { ChatEvent } from "../contract/chat-events.ts";
import { settleRecord, usageView } from "../store/usage-ledger.ts";

/**
 * Moves a message that is still `streaming` (or `pending`, or `awaiting_approval`) to its final state, and its
 * request mapping with it, in one transaction. A message that already reached a final state is left alone,
 * whoever tries: the first writer wins and nobody moves a finished message back. A streaming answer may also
 * stop to wait for the user (`awaiting_approval`); ending one that waits declines the call it waited on.
 *
 * Ending a message settles its budget reservation in the same transaction (see `store/usage-ledger.ts`): the
 * receipt in `usage` is spent (an `error` costs nothing) and the reservation released, exactly once.
 */
export interface MessageOutcome {
  readonly status: "done" | "error" | "aborted" | "awaiting_approval";
  readonly content?: string;
  readonly error?: { readonly code: ErrorCode; readonly message: string };
  readonly fields?: Partial<MessageRecord>;
}

export async function finishMessage(
  database: DocumentDatabase,
  uid: string,
  messageId: string,
  outcome: MessageOutcome,
  now: Date,
  /** Only if the message showed no sign of life since this moment (the "still stale" check of sweeps and reads). */
  unchangedSince?: Date,
  /** Only if this holds of the message as it is now (a sweep ending what its query found, and nothing else). */
  onlyIf?: (message: MessageRecord) => boolean,
): Promise<MessageRecord | null> {
  return database.transaction(async (transaction) => {
    const found = await transaction.get<MessageRecord>(paths.message(uid, messageId));
    if (found === null) return null;
    const message = found.data;
    const waiting = message.status === "awaiting_approval";
    if (message.status !== "streaming" && message.status !== "pending" && !waiting) return message;
    if (waiting && outcome.status === "awaiting_approval") return message;
    // A stop that came while the answer was pausing for approval ends it instead: nobody asked for a question.
    const settled: MessageOutcome =
      outcome.status === "awaiting_approval" && message.stop_requested_at !== undefined
        ? { ...outcome, status: "aborted", error: { code: "aborted", message: "Stopped by the user." } }
        : outcome;
    if (unchangedSince !== undefined && lastSignOfLife(message).getTime() > unchangedSince.getTime()) return message;
    if (onlyIf !== undefined && !onlyIf(message)) return message;
    const { approval_expires_at: _lapsed, ...current } = message;
    const { approval_expires_at: _asked, ...fields } = settled.fields ?? {};
    const merged: MessageRecord = {
      ...(settled.status === "awaiting_approval" ? message : current),
      ...(settled.status === "awaiting_approval" ? settled.fields : fields),
      ...(settled.content === undefined ? {} : { content: settled.content }),
      status: settled.status,
      updated_at: now,
      ...(settled.error === undefined ? {} : { error: settled.error.message, error_code: settled.error.code }),
    };
    const ended: MessageRecord =
      settled.status === "awaiting_approval" || merged.tool_calls === undefined
        ? merged
        : { ...merged, tool_calls: settleCalls(merged.tool_calls, settled.error?.message) };
    // The request and the month's ledger are read together: one round trip, not two, before the end is told.
    const [request, finished] = await Promise.all([
      transaction.get<RequestRecord>(paths.request(uid, message.request_id)),
      settled.status === "awaiting_approval"
        ? ended
        : settleRecord(transaction, uid, ended, settled.status === "error", now),
    ]);
    transaction.set(paths.message(uid, messageId), finished);
    if (request !== null && request.data.message_id === messageId) {
      transaction.update(request.path, {
        status: settled.status,
        updated_at: now,
        ...(settled.error === undefined ? {} : { error: settled.error.message }),
      });
    }
    return finished;
  });
}

/**
 * An ended answer's calls, none left open: the one it waited on is declined (the answer ended without the user's
 * yes), and any still running or not yet run ended with the answer.
 */
function settleCalls(calls: readonly ToolCallRecord[], reason: string | undefined): ToolCallRecord[] {
  return calls.map((call) => {
    if (call.status === "awaiting_approval") {
      const error = reason ?? "The call was not approved.";
      return { ...call, status: "declined", ok: false, error, response_json: JSON.stringify({ ok: false, error }) };
    }
    if (call.status === "running") {
      const error = "The answer ended before this call finished.";
      return { ...call, status: "error", ok: false, error, response_json: JSON.stringify({ ok: false, error }) };
    }
    return call;
  });
}

/** The call a waiting answer waits on. */
export function waitingCall(message: MessageRecord): ToolCallRecord | undefined {
  return message.tool_calls?.find((call) => call.status === "awaiting_approval");
}

/**
 * The event that opens every stream of a message: a new answer (`resumed: false`), or a replay, resume or
 * continuation of one an earlier request started. Its model is the one asked for, as the start stored it.
 */
export function metaEvent(message: MessageRecord, resumed: boolean): ChatEvent {
  return {
    event: "meta",
    data: {
      chat_id: message.chat_id,
      message_id: message.message_id,
      request_id: message.request_id,
      model: message.model ?? "",
      grounding: message.grounding_requested === true,
      resumed,
    },
  };
}

/**
 * The event that ends a stream for a message in a final state, or waiting for approval (live, replayed or
 * resumed alike).
 */
export function terminalEvent(message: MessageRecord): ChatEvent {
  const waiting = message.status === "awaiting_approval" ? waitingCall(message) : undefined;
  if (waiting !== undefined) {
    return {
      event: "approval_required",
      data: toolCallEventOf(waiting),
    };
  }
  if (message.status === "done") {
    return {
      event: "done",
      data: {
        message_id: message.message_id,
        status: "done",
        finish_reason: message.finish_reason ?? "STOP",
        latency_ms: message.latency_ms ?? 0,
        ...(message.model === undefined ? {} : { model: message.model }),
        ...(message.provider === undefined ? {} : { provider: message.provider }),
        ...(message.usage === undefined ? {} : { usage: usageView(message.usage) }),
      },
    };
  }
  if (message.status === "aborted") {
    return { event: "error", data: { code: "aborted", message: message.error ?? "The answer was stopped." } };
  }
  return {
    event: "error",
    data: {
      code: (message.error_code as ErrorCode | undefined) ?? "internal",
      message: message.error ?? "The answer could not be completed.",
    },
  };
}
