import type { DocumentDatabase } from "../database/document-database.ts";
import type { ErrorCode } from "../contract/error-codes.ts";
import { paths } from "../store/paths.ts";
import { lastSignOfLife, type MessageRecord, type RequestRecord } from "../store/records.ts";
import type { ChatEvent } from "../contract/chat-events.ts";

/**
 * Moves a message that is still `streaming` (or `pending`) to its final state, and its request mapping with it,
 * in one transaction. A message that already reached a final state is left alone, whoever tries: the first
 * writer wins and nobody moves a finished message back.
 */
export interface MessageOutcome {
  readonly status: "done" | "error" | "aborted";
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
): Promise<MessageRecord | null> {
  return database.transaction(async (transaction) => {
    const found = await transaction.get<MessageRecord>(paths.message(uid, messageId));
    if (found === null) return null;
    const message = found.data;
    if (message.status !== "streaming" && message.status !== "pending") return message;
    if (unchangedSince !== undefined && lastSignOfLife(message).getTime() > unchangedSince.getTime()) return message;
    const request = await transaction.get<RequestRecord>(paths.request(uid, message.request_id));
    const finished: MessageRecord = {
      ...message,
      ...outcome.fields,
      ...(outcome.content === undefined ? {} : { content: outcome.content }),
      status: outcome.status,
      updated_at: now,
      ...(outcome.error === undefined ? {} : { error: outcome.error.message, error_code: outcome.error.code }),
    };
    transaction.set(paths.message(uid, messageId), finished);
    if (request !== null && request.data.message_id === messageId) {
      transaction.update(request.path, {
        status: outcome.status,
        updated_at: now,
        ...(outcome.error === undefined ? {} : { error: outcome.error.message }),
      });
    }
    return finished;
  });
}

/** The event that ends a stream for a message in a final state (live, replayed or resumed alike). */
export function terminalEvent(message: MessageRecord): ChatEvent {
  if (message.status === "done") {
    return {
      event: "done",
      data: {
        message_id: message.message_id,
        status: "done",
        finish_reason: message.finish_reason ?? "STOP",
        latency_ms: message.latency_ms ?? 0,
        ...(message.model === undefined ? {} : { model: message.model }),
        ...(message.usage === undefined ? {} : { usage: message.usage }),
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
