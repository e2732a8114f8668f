import type { DocumentDatabase } from "../database/document-database.ts";
import { describeError, type Logger } from "../logging/logger.ts";
import { paths } from "../store/paths.ts";
import { lastSignOfLife, STREAM_ENDING_STATUSES, type MessageRecord } from "../store/records.ts";
import type { ChatEventSink } from "./chat-event-sink.ts";
import { finishMessage, metaEvent, terminalEvent } from "./finish-message.ts";
import { toolCallEventOf, toolResultOf } from "./tool-call-view.ts";

/**
 * Replays a message from a content offset and follows it live until it ends, from any instance: the message
 * document is the source of truth. Used for `GET /chat/stream/{message_id}`, for a repeated `request_id`
 * (replay when finished, resume from 0 when not), and by the streaming callable.
 *
 * A thought summary is replayed whole when the client starts from offset 0 (it has seen nothing of this answer)
 * and never sent otherwise: thoughts come before the answer, so a client holding content has seen them all,
 * even those the stored summary (written at intervals) does not hold yet.
 *
 * Tool calls are replayed in place: a call's `tool_call` (and its `tool_result` once it has one) goes out when
 * the replayed content reaches the offset the call was made at. A client resuming from an offset has seen the
 * calls made before it; those made exactly at it are sent again (clients tell calls apart by `call_id`). Nothing
 * runs again: a replay only reads what the calls came to.
 *
 * While following, the follower keeps the message's `attached_at` fresh so the generating side keeps going after
 * its own client left. However many followers there are, `attached_at` is written at most once per half
 * `attachTimeoutMs` (a follower that finds it fresh enough leaves it), so resumers do not crowd the document's
 * write budget. If the message shows no sign of life (`alive_at`) for `staleMs`, its generator died with its
 * instance: the follower ends it `aborted` rather than wait forever.
 */
interface FollowTiming {
  readonly attachTimeoutMs: number;
  readonly staleMs: number;
}

interface FollowDependencies {
  readonly database: DocumentDatabase;
  readonly logger: Logger;
  readonly timing: FollowTiming;
  readonly now: () => number;
}

interface FollowInput {
  readonly uid: string;
  readonly message: MessageRecord;
  readonly offset: number;
  readonly sink: ChatEventSink;
}

export async function followMessage(dependencies: FollowDependencies, input: FollowInput): Promise<void> {
  const { database, timing, now, logger } = dependencies;
  const { uid, sink } = input;
  const path = paths.message(uid, input.message.message_id);
  // A finished answer's length is final: an offset past it is clamped rather than echoed back as an event id.
  const finished = STREAM_ENDING_STATUSES.has(input.message.status);
  let sent = Math.max(0, Math.min(input.offset, finished ? input.message.content.length : Number.MAX_SAFE_INTEGER));
  let thoughtsSent = sent > 0 ? Number.POSITIVE_INFINITY : 0;
  const callsSent = new Set<string>();
  const resultsSent = new Set<string>();
  for (const call of input.message.tool_calls ?? []) {
    if (call.offset >= sent) continue;
    callsSent.add(call.call_id);
    if (call.ok !== undefined) resultsSent.add(call.call_id);
  }
  let latest = input.message;

  sink.send(metaEvent(input.message, true), sent);
  let citationsSent = 0;
  const showSources = (message: MessageRecord) => {
    // A search the model made mid-answer adds sources: the client gets the whole list again, as a live one does.
    const citations = message.citations ?? [];
    if (citations.length <= citationsSent) return;
    citationsSent = citations.length;
    sink.send({ event: "sources", data: { citations } }, sent);
  };
  showSources(input.message);

  await new Promise<void>((resolve) => {
    // Mutable state shared by the callbacks below.
    const state: { finished: boolean; heartbeat?: NodeJS.Timeout; unsubscribe: () => void } = {
      finished: false,
      unsubscribe: () => undefined,
    };
    const finish = () => {
      if (state.finished) return;
      state.finished = true;
      clearInterval(state.heartbeat);
      state.unsubscribe();
      sink.end();
      resolve();
    };
    const show = (message: MessageRecord) => {
      if (state.finished) return;
      const thinking = message.thinking ?? "";
      if (thinking.length > thoughtsSent) {
        sink.send({ event: "thinking", data: { text: thinking.slice(thoughtsSent) } }, sent);
        thoughtsSent = thinking.length;
      }
      showSources(message);
      const calls = [...(message.tool_calls ?? [])].sort((a, b) => a.offset - b.offset);
      for (const call of calls) {
        if (call.offset > message.content.length) break;
        if (call.offset > sent) {
          sink.send({ event: "token", data: { text: message.content.slice(sent, call.offset) } }, call.offset);
          sent = call.offset;
        }
        if (!callsSent.has(call.call_id)) {
          callsSent.add(call.call_id);
          sink.send({ event: "tool_call", data: toolCallEventOf(call) }, sent);
        }
        if (call.ok !== undefined && !resultsSent.has(call.call_id)) {
          resultsSent.add(call.call_id);
          sink.send({ event: "tool_result", data: toolResultOf(call) }, sent);
        }
      }
      if (message.content.length > sent) {
        sink.send({ event: "token", data: { text: message.content.slice(sent) } }, message.content.length);
        sent = message.content.length;
      }
      latest = message;
      if (STREAM_ENDING_STATUSES.has(message.status)) {
        sent = Math.min(sent, message.content.length);
        sink.send(terminalEvent(message), sent);
        finish();
      }
    };
    const beat = async () => {
      if (latest.status === "streaming" && now() - lastSignOfLife(latest).getTime() >= timing.staleMs) {
        const ended = await finishMessage(
          database,
          uid,
          input.message.message_id,
          { status: "aborted", error: { code: "aborted", message: "The answer stopped unexpectedly." } },
          new Date(now()),
          new Date(now() - timing.staleMs),
        );
        if (ended !== null) show(ended);
        else finish();
        return;
      }
      await database.transaction(async (transaction) => {
        const current = (await transaction.get<MessageRecord>(path))?.data;
        if (current?.status !== "streaming") return;
        const attachedAt = current.attached_at?.getTime() ?? 0;
        if (now() - attachedAt >= timing.attachTimeoutMs / 2) {
          transaction.update(path, { attached_at: new Date(now()) });
        }
      });
    };

    sink.onDisconnect(finish);
    show(input.message);
    if (state.finished) return;
    void beat().catch((error: unknown) => logger.warn("attach heartbeat failed", describeError(error, false)));
    state.heartbeat = setInterval(
      () => {
        void beat().catch((error: unknown) => logger.warn("attach heartbeat failed", describeError(error, false)));
      },
      Math.max(250, Math.floor(timing.attachTimeoutMs / 3)),
    );
    state.unsubscribe = database.watch<MessageRecord>(
      path,
      (document) => {
        if (document === null) {
          sink.send({ event: "error", data: { code: "not_found", message: "This answer no longer exists." } }, sent);
          finish();
        } else show(document.data);
      },
      (error) => {
        logger.warn("message watch failed", describeError(error, false));
        sink.send(
          { event: "error", data: { code: "unavailable", message: "Lost track of the answer. Resume again." } },
          sent,
        );
        finish();
      },
    );
  });
}
