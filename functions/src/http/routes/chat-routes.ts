import type { ChatService } from "../../chat/chat-service.ts";
import type { ConnectionGauge } from "../../ops/connection-gauge.ts";
import type { StreamSlots } from "../../ops/stream-slots.ts";
import type { StreamAdmission } from "../../ops/stream-admission.ts";
import type { TransactionCheck } from "../../store/transaction-check.ts";
import { invalidArgument } from "../../errors/app-error.ts";
import { stopBodySchema } from "../../contract/request-bodies.ts";
import { CLIENT_ID_PATTERN } from "../../contract/identifiers.ts";
import type { RequestContext } from "../request-context.ts";
import type { Route } from "../router.ts";
import { SseStream } from "../sse-stream.ts";
import { readIdempotentBody } from "../idempotency-key.ts";
import { parseInput } from "../../errors/parse-input.ts";
import type { StopResult } from "../../contract/resources.ts";

/**
 * `POST /chat/stream` (new answer, or replay/resume for a repeated request_id), `GET /chat/stream/{message_id}`
 * (resume from `Last-Event-ID` or `?after=`), `POST /chat/approve` (the user's answer to `approval_required`,
 * continuing the answer on a new stream), `POST /chat/stop`. Every refusal happens before the stream opens,
 * so it is an ordinary JSON error; once the stream is open, failures arrive as an `error` event. All four take
 * from the caller's rate limit, and every stream holds one of the caller's stream slots while it is open.
 */
export function chatRoutes(
  chat: ChatService,
  sse: { readonly heartbeatSeconds: number },
  connections: ConnectionGauge,
  slots: StreamSlots,
  admission: StreamAdmission,
): Route[] {
  const openStream = (context: RequestContext) => {
    const stream = new SseStream(context.response, sse.heartbeatSeconds);
    stream.open();
    const release = connections.acquire();
    // A client gone while the stream was being started has closed already: its `close` will not fire again.
    if (context.response.destroyed) release();
    else context.response.once("close", release);
    return stream;
  };
  /**
   * Runs `work` holding one of the caller's stream slots: taken first (a 429 when all are taken, with nothing
   * else done), given back when the work ends however it ends. A client gone before the slot was taken gets none.
   */
  const withSlot = async (context: RequestContext, work: () => Promise<void>) => {
    const slot = await slots.acquire(context.caller.uid);
    try {
      if (context.response.destroyed) return;
      await work();
    } finally {
      await slot.release().catch(() => undefined);
    }
  };
  /**
   * Runs `start` with the caller's rate-limit token and stream slot as checks in its transaction (see
   * `StreamAdmission`), then `work` on what it started, holding the slot until the work ends however it ends.
   */
  const withAdmission = async <T>(
    context: RequestContext,
    start: (admissions: readonly TransactionCheck[]) => Promise<T>,
    work: (started: T) => Promise<void>,
  ) => {
    const { started, slot } = await admission.admit(context.caller.uid, start);
    try {
      await work(started);
    } finally {
      await slot.release().catch(() => undefined);
    }
  };

  return [
    {
      method: "POST",
      path: "/chat/stream",
      access: "chat",
      // The rate limit and the stream slot are checks in the turn's start transaction: the model is called as
      // soon as that one transaction commits.
      rateLimited: "in-route",
      handle: async (context) => {
        const startedAt = Date.now();
        context.logFields.generation_type = "text";
        // Everything that can refuse the request runs inside the admission, so a refusal still takes a rate token.
        // A client gone meanwhile does not stop the answer it started: it runs on, resumable, as after any
        // disconnect.
        await withAdmission(
          context,
          async (admissions) => {
            const body = await readIdempotentBody(context);
            // A repeated request (a client library's retry) continues from what the client already has.
            const resumeFrom = resumeOffset(context);
            return { prepared: await chat.begin(context.caller, body, startedAt, admissions), resumeFrom };
          },
          async ({ prepared, resumeFrom }) => {
            context.logFields.chat_id = prepared.message.chat_id;
            if (prepared.message.model !== undefined) context.logFields.model = prepared.message.model;
            await chat.stream(prepared, openStream(context), resumeFrom);
          },
        );
      },
    },
    {
      method: "GET",
      path: "/chat/stream/:messageId",
      access: "chat",
      rateLimited: true,
      handle: async (context) => {
        const offset = resumeOffset(context);
        const messageId = context.params.messageId ?? "";
        if (!CLIENT_ID_PATTERN.test(messageId)) {
          throw invalidArgument("Invalid message_id.", { message_id: "Not a message id" });
        }
        const message = await chat.message(context.caller.uid, messageId);
        context.logFields.generation_type = "text";
        context.logFields.chat_id = message.chat_id;
        await withSlot(context, () => chat.follow(context.caller.uid, message, offset, openStream(context)));
      },
    },
    {
      method: "POST",
      path: "/chat/approve",
      access: "chat",
      // As for a new answer: the rate limit and the slot are checks in the transaction that approves the call.
      rateLimited: "in-route",
      handle: async (context) => {
        const startedAt = Date.now();
        context.logFields.generation_type = "text";
        await withAdmission(
          context,
          async (admissions) => chat.approve(context.caller, await context.readJson(), startedAt, admissions),
          async (approved) => {
            context.logFields.chat_id = approved.message.chat_id;
            if (approved.message.model !== undefined) context.logFields.model = approved.message.model;
            await chat.continue(approved, openStream(context));
          },
        );
      },
    },
    {
      method: "POST",
      path: "/chat/stop",
      access: "chat",
      rateLimited: true,
      handle: async (context) => {
        const body = parseInput(stopBodySchema, await context.readJson());
        const status = await chat.stop(context.caller.uid, body.message_id);
        context.sendJson(200, { ok: true, message_id: body.message_id, status } satisfies StopResult);
      },
    },
  ];
}

/**
 * The content offset to resume from: `Last-Event-ID` (what EventSource and fetch-based SSE clients send when they
 * reconnect) or `?after=`; 0 when neither is sent.
 */
function resumeOffset(context: RequestContext): number {
  const raw = context.header("last-event-id") ?? context.query.get("after") ?? "0";
  if (!/^\d{1,15}$/.test(raw.trim())) {
    throw invalidArgument("Invalid resume offset.", { after: "A non-negative whole number of characters" });
  }
  return Number(raw.trim());
}
