import type { Telemetry } from "../telemetry/telemetry.ts";
import type { AuthenticatedUser } from "../auth/id-token-verifier.ts";
import { assertBlobPath, type BlobStore } from "../blobs/blob-store.ts";
import type { DocumentDatabase } from "../database/document-database.ts";
import { AppError, invalidArgument, notFound, unavailable } from "../errors/app-error.ts";
import { toAppError } from "../errors/error-mapping.ts";
import type { Grounder, GroundingPlan } from "../grounding/grounder.ts";
import { describeError, type Logger } from "../logging/logger.ts";
import { hourlyGroundingCheck, monthlyQuotaCheck } from "../ops/usage-quotas.ts";
import { budgetCheck, extendWithinBudget, type TierBudgets } from "../ops/budget-check.ts";
import { ledgerPeriod, type ChargeRecord } from "../store/usage-ledger.ts";
import type { TextModelEntry } from "../models/model-entry.ts";
import type { ConversationTurn } from "../providers/text-provider.ts";
import { AnswerCost, estimatedInputTokens, firstRoundInputTokens } from "./answer-cost.ts";
import type { TextModels } from "../models/text-models.ts";
import { isProviderError } from "../providers/provider-error.ts";
import { beginGeneration, chatTitle, payloadHash } from "../store/begin-generation.ts";
import { decideAll, readTogether, type TransactionCheck } from "../store/transaction-check.ts";
import { paths } from "../store/paths.ts";
import { STREAM_ENDING_STATUSES, type MessageRecord, type ToolCallRecord } from "../store/records.ts";
import type { MessageStatus } from "../contract/resources.ts";
import type { RequestLimits } from "../contract/request-bodies.ts";
import type { ActiveStreams } from "./active-streams.ts";
import type { ChatEventSink } from "./chat-event-sink.ts";
import { parseChatTurn, type ChatTurnRequest } from "./chat-request.ts";
import { groundedInstruction } from "../grounding/grounder.ts";
import { queries } from "../store/queries.ts";
import { usageOf } from "./stream-session.ts";
import {
  conversationOf,
  loadConversation,
  messagesBefore,
  prefetchLatestMessages,
  type ConversationImage,
  type ConversationLimits,
} from "./conversation.ts";
import { finishMessage, metaEvent, waitingCall } from "./finish-message.ts";
import { toolLoop, type AnswerEvent, type ToolLoopInput } from "./tool-loop.ts";
import type { ToolRegistry } from "../tools/tool-registry.ts";
import type { ModelChoice } from "../models/model-choices.ts";
import { parseInput } from "../errors/parse-input.ts";
import { approveBodySchema } from "../contract/request-bodies.ts";
import { followMessage } from "./stream-follower.ts";
import { StreamSession } from "./stream-session.ts";
import { toolResultOf } from "./tool-call-view.ts";
import { mediaPaths } from "../store/media-paths.ts";
import { validateImageBytes, type ImageLimits } from "../jobs/image-input.ts";

/** `promise`, marked as handled: whoever awaits it later still sees its failure, and nobody else has to. */
function settledLater<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/**
 * How often a generator renews `alive_at`: every 30 s, or a third of the staleness window when that is shorter,
 * so two renewals can be missed before anyone takes the answer for dead.
 */
export function aliveIntervalMs(staleMs: number): number {
  return Math.min(30_000, Math.floor(staleMs / 3));
}

/** How long things take in chat, in milliseconds. */
interface ChatTiming {
  /** How often a streaming answer is written to its message document (and reads its control fields). */
  readonly updateIntervalMs: number;
  /** A streaming message with no sign of life (`alive_at`) for this long is taken for dead. */
  readonly staleMs: number;
  /** How long an answer goes on after its last client left, waiting for a resume. */
  readonly graceMs: number;
  /** A resumer counts as attached while its heartbeat is younger than this. */
  readonly attachTimeoutMs: number;
}

/** What chat reads of the configuration: limits, quotas, timing and the model's instructions. */
export interface ChatOptions {
  /** The request-body limits (one object per configuration: the body schemas are built per limits). */
  readonly limits: RequestLimits;
  readonly quotas: {
    /** Generations per user per calendar month, by tier; 0 is unlimited. */
    readonly monthly: { readonly free: number; readonly paid: number };
    /** Money per user per calendar month, by tier, in micro-dollars; 0 is unlimited. */
    readonly budgets: TierBudgets;
    /** Grounded (web-searching) requests per user per hour. */
    readonly groundingPerHour: number;
  };
  /** What an attachment may be: bytes before decoding, pixels per side. */
  readonly attachmentLimits: ImageLimits;
  /** How long a request_id is remembered for idempotency. */
  readonly requestRetentionDays: number;
  /** How much of the chat the model sees. */
  readonly context: ConversationLimits;
  readonly systemInstruction: string;
  readonly timing: ChatTiming;
  readonly tools: {
    /** Rounds of tool calls in one answer before it ends with a sentence saying so. */
    readonly maxSteps: number;
    /** How long an answer waits for the user to approve a call. */
    readonly approvalTimeoutMs: number;
  };
}

interface ChatServiceDependencies {
  readonly database: DocumentDatabase;
  readonly blobs: BlobStore;
  /** The text models this server runs; `available` is false when none is configured. */
  readonly text: TextModels;
  readonly grounder: Grounder;
  /** What answers may cost and did cost. */
  readonly cost: AnswerCost;
  /** The tools the model may call; absent or empty when tools are off. */
  readonly tools?: ToolRegistry;
  readonly logger: Logger;
  readonly activeStreams: ActiveStreams;
  readonly options: ChatOptions;
  readonly telemetry: Telemetry;
  readonly now: () => number;
}

/** A chat turn after validation and the start transaction, ready to stream. */
type PreparedTurn =
  | {
      readonly kind: "new";
      readonly uid: string;
      readonly user: AuthenticatedUser;
      readonly turn: ChatTurnRequest;
      /** The user's message and the answer to it, as the start transaction created them. */
      readonly userMessage: MessageRecord;
      readonly message: MessageRecord;
      readonly startedAt: number;
      /** The attachments' clean re-encodings, in order: what the model is sent with the new message. */
      readonly images: readonly ConversationImage[];
      /** The chat's latest messages before this turn, newest first (read while the start transaction ran). */
      readonly earlier: Promise<readonly MessageRecord[]>;
    }
  | { readonly kind: "existing"; readonly uid: string; readonly message: MessageRecord };

/** A waiting answer the user just approved or declined, back in `streaming`, ready to go on. */
export interface ApprovedTurn {
  readonly uid: string;
  readonly user: AuthenticatedUser;
  readonly message: MessageRecord;
  /** The call the user answered. */
  readonly callId: string;
  /** The model that was answering, alone: a history of calls is valid only for the model that made it. */
  readonly models: ModelChoice<"text">;
  readonly startedAt: number;
}

/**
 * Chat: starting a turn (validation, limits, idempotency), streaming it (new answers, replays and resumes),
 * stopping it. Everything that can refuse a request happens in {@link begin}, before a stream opens, so those
 * refusals are ordinary HTTP errors; after that, failures are `error` events and error documents.
 */
export class ChatService {
  readonly #dependencies: ChatServiceDependencies;

  constructor(dependencies: ChatServiceDependencies) {
    this.#dependencies = dependencies;
  }

  /**
   * Validates a turn and starts it in one transaction: `admissions` (the caller's rate limit, a stream slot)
   * and every quota and budget are checked and written there with the turn's documents, and the chat's latest
   * messages are read alongside, so the model can be called as soon as that transaction commits.
   */
  async begin(
    user: AuthenticatedUser,
    body: unknown,
    startedAt: number,
    admissions: readonly TransactionCheck[] = [],
  ): Promise<PreparedTurn> {
    const { database, options, text, grounder, activeStreams, now } = this.#dependencies;
    if (!activeStreams.accepting) throw unavailable("The server is restarting. Try again in a moment.");
    if (!text.available) throw unavailable("The text model is not configured on this server.");
    const turn = parseChatTurn(body, options.limits, (requested, needs) =>
      text.choose(requested, (entry) => !needs.images || entry.capabilities.imageInput),
    );
    const model = turn.models.model;
    if (turn.attachments.length > 0 && !model.capabilities.imageInput) {
      throw invalidArgument("This model takes no images.", { attachments: `${model.id} takes no images` });
    }
    if (turn.grounding && !grounder.available) {
      throw new AppError("unavailable", "Web search (grounding) is not configured on this server.", {
        httpStatus: 503,
      });
    }
    // Awaited once the turn has started; a refused turn never looks at it.
    const prefetched = settledLater(
      turn.chatId === undefined
        ? Promise.resolve([])
        : prefetchLatestMessages(database, user.uid, turn.chatId, options.context),
    );
    const images = await this.#readAttachments(user.uid, turn.attachments);
    const at = new Date(now());
    const provider = text.runOf(model);
    const { month, day } = ledgerPeriod(at);
    const charge: ChargeRecord = {
      month,
      day,
      provider,
      kind: "text",
      reserved_micros: this.#dependencies.cost.reservation(
        [model, ...turn.models.chain],
        (entry) => text.outputCap(entry),
        firstRoundInputTokens({
          systemInstruction: options.systemInstruction,
          message: turn.message,
          historyCharacters: options.context.maxCharacters,
          images: images.length,
          searchResults: turn.grounding ? grounder.maxResults : 0,
        }),
        turn.grounding ? 1 : 0,
        at,
      ),
    };
    const start = await beginGeneration(database, {
      uid: user.uid,
      requestId: turn.requestId,
      kind: "chat",
      payloadHash: payloadHash("chat", {
        message: turn.message,
        chat_id: turn.chatId,
        grounding: turn.grounding,
        // As sent: a request that named no model means "the default" whatever the default becomes later.
        model: turn.requestedModel,
        attachments: turn.attachments,
        // Only when asked, so requests stored before thought summaries existed keep their fingerprint.
        thinking: turn.thinking ? true : undefined,
      }),
      chatId: turn.chatId,
      title: chatTitle(turn.message),
      userMessage: { content: turn.message, attachments: turn.attachments },
      assistantMessage: {
        type: "text",
        status: "streaming",
        model: model.id,
        provider,
        fields: { charge, ...(turn.grounding ? { grounding_requested: true } : {}) },
      },
      checks: [
        monthlyQuotaCheck({
          uid: user.uid,
          claims: user,
          limits: options.quotas.monthly,
          now: at,
        }),
        ...(turn.grounding
          ? [hourlyGroundingCheck({ uid: user.uid, limit: options.quotas.groundingPerHour, now: at })]
          : []),
        budgetCheck({ uid: user.uid, claims: user, budgets: options.quotas.budgets, charge, now: at }),
      ],
      admissions,
      now: at,
      requestRetentionDays: options.requestRetentionDays,
    });
    if (start.created) {
      const { userMessage, assistant } = start;
      if (userMessage === undefined) throw new Error("A chat turn always adds the user's message.");
      return {
        kind: "new",
        uid: user.uid,
        user,
        turn,
        userMessage,
        message: assistant,
        startedAt,
        images,
        earlier: settledLater(messagesBefore(database, user.uid, userMessage, prefetched, options.context)),
      };
    }
    if (start.request.kind !== "chat")
      throw new AppError("conflict", "This request_id belongs to another kind of request.");
    return { kind: "existing", uid: user.uid, message: await this.message(user.uid, start.request.message_id) };
  }

  /**
   * Streams a prepared turn: a new answer, or a replay/resume of the one this request_id already made, from
   * `resumeFrom` (the content the client already has, as it last acknowledged it).
   */
  async stream(prepared: PreparedTurn, sink: ChatEventSink, resumeFrom = 0): Promise<void> {
    if (prepared.kind === "existing") {
      await this.follow(prepared.uid, prepared.message, resumeFrom, sink);
      return;
    }
    await this.#generate(prepared, sink);
  }

  /** A message of the caller's; someone else's is not found. */
  async message(uid: string, messageId: string): Promise<MessageRecord> {
    const found = await this.#dependencies.database.get<MessageRecord>(paths.message(uid, messageId));
    if (found === null) throw notFound("Message");
    return found.data;
  }

  /** Replays a message from `offset` and follows it until it ends. */
  follow(uid: string, message: MessageRecord, offset: number, sink: ChatEventSink): Promise<void> {
    const { database, logger, options, now } = this.#dependencies;
    const { attachTimeoutMs, staleMs } = options.timing;
    return followMessage(
      { database, logger, now, timing: { attachTimeoutMs, staleMs } },
      { uid, message, offset, sink },
    );
  }

  /**
   * Stops a streaming message wherever it runs: at once when it runs in this process, otherwise through the
   * stop flag its generator reads on its next write. If no generator answers in time (its instance died), the
   * message is ended here. Returns the message's final status.
   */
  async stop(uid: string, messageId: string): Promise<MessageStatus> {
    const { database, activeStreams, options, now } = this.#dependencies;
    const path = paths.message(uid, messageId);
    const status = await database.transaction(async (transaction) => {
      const found = await transaction.get<MessageRecord>(path);
      if (found === null) throw notFound("Message");
      if (found.data.status === "streaming" && found.data.stop_requested_at === undefined) {
        transaction.update(path, { stop_requested_at: new Date(now()) });
      }
      return found.data.status;
    });
    const endHere = (onlyIf?: (message: MessageRecord) => boolean) =>
      finishMessage(
        database,
        uid,
        messageId,
        { status: "aborted", error: { code: "aborted", message: "Stopped by the user." } },
        new Date(now()),
        undefined,
        onlyIf,
      );
    if (status === "awaiting_approval") {
      // Nothing runs while an answer waits: stopping it ends it here, the call it waited on declined. If an
      // approval moved it on meanwhile, it is a stream again, and is stopped as one.
      const ended = await endHere((message) => message.status === "awaiting_approval");
      return ended?.status === "streaming" ? this.stop(uid, messageId) : (ended?.status ?? "aborted");
    }
    if (status !== "streaming") return status;
    const local = activeStreams.get(messageId);
    if (local !== undefined) {
      await local.abort("stopped");
      return (await this.message(uid, messageId)).status;
    }
    const settled = await this.#waitUntilFinished(uid, messageId, options.timing.updateIntervalMs * 3 + 2_000);
    if (settled !== undefined) return settled;
    const forced = await endHere();
    return forced?.status ?? "aborted";
  }

  async #waitUntilFinished(uid: string, messageId: string, timeoutMs: number): Promise<MessageStatus | undefined> {
    return new Promise((resolve) => {
      let settled = false;
      let unsubscribe: () => void = () => undefined;
      const settle = (status: MessageStatus | undefined) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        unsubscribe();
        resolve(status);
      };
      const timer = setTimeout(() => settle(undefined), timeoutMs);
      unsubscribe = this.#dependencies.database.watch<MessageRecord>(
        paths.message(uid, messageId),
        (document) => {
          if (document === null) settle("aborted");
          else if (STREAM_ENDING_STATUSES.has(document.data.status)) settle(document.data.status);
        },
        () => settle(undefined),
      );
    });
  }

  /**
   * Reads the turn's attachments (the caller's own uploads) and hands back their clean re-encodings, which are
   * what the model is sent: the bytes decide, not the type the uploader declared (a file uploaded straight to
   * Storage in firebase mode carries whatever content type and metadata its client gave it), and every pixel is
   * decoded, so a truncated or disguised file is refused here, before anything is written.
   */
  async #readAttachments(uid: string, attachments: ChatTurnRequest["attachments"]): Promise<ConversationImage[]> {
    const { blobs, options } = this.#dependencies;
    const limits = options.attachmentLimits;
    const uploads = mediaPaths.uploads(uid);
    const images: ConversationImage[] = [];
    for (const [index, attachment] of attachments.entries()) {
      const field = `attachments.${index}.path`;
      try {
        assertBlobPath(attachment.path);
      } catch {
        throw invalidArgument("Invalid attachment path.", { [field]: `Must be one of your uploads: ${uploads}...` });
      }
      if (!attachment.path.startsWith(uploads)) {
        throw invalidArgument("Attachments must be your own uploads.", { [field]: `Must start with ${uploads}` });
      }
      const stored = await blobs.stat(attachment.path);
      if (stored === null) throw notFound("Attachment");
      if (stored.size > limits.maxBytes) {
        throw new AppError("payload_too_large", `Attachments may be at most ${limits.maxBytes} bytes.`, {
          details: { field, limit_bytes: limits.maxBytes },
        });
      }
      const blob = await blobs.get(attachment.path);
      if (blob === null) throw notFound("Attachment");
      const clean = await validateImageBytes(blob.bytes, `attachments.${index}`, limits, attachment.mime_type);
      images.push({ mimeType: clean.mimeType, data: clean.data });
    }
    return images;
  }

  async #generate(prepared: Extract<PreparedTurn, { kind: "new" }>, sink: ChatEventSink): Promise<void> {
    const { grounder, logger, options } = this.#dependencies;
    const { uid, turn, message } = prepared;
    sink.send(metaEvent(message, false), 0);
    logger.info("start_stream", {
      request_id: message.request_id,
      chat_id: message.chat_id,
      message_id: message.message_id,
      model: turn.models.model.id,
      fallback_models: turn.models.chain.map((entry) => entry.id),
      generation_type: "text",
      grounding: turn.grounding,
      thinking: turn.thinking,
      provider: message.provider,
      prompt_length: turn.message.length,
      attachments: turn.attachments.length,
    });

    let plan: GroundingPlan | undefined;
    let conversation;
    try {
      conversation = conversationOf(
        [prepared.userMessage, ...(await prepared.earlier)],
        prepared.images,
        options.context,
      );
      if (turn.grounding) {
        plan = await grounder.plan(turn.message, conversation, options.systemInstruction);
        // The message stores them with its first write, which the model does not wait for.
        sink.send({ event: "sources", data: { citations: plan.citations } }, 0);
      }
    } catch (error) {
      await this.#failBeforeStream(uid, message, error, sink);
      return;
    }

    await this.#session({
      uid,
      message,
      generate: this.#answer(prepared.user, message, {
        choice: turn.models,
        request: {
          systemInstruction: plan?.systemInstruction ?? options.systemInstruction,
          ...(plan === undefined ? {} : { sources: plan.sources }),
          includeThoughts: turn.thinking,
        },
        contents: conversation,
        sourceCount: plan?.citations.length ?? 0,
      }),
      sink,
      startedAt: prepared.startedAt,
      receipt: this.#dependencies.cost.receipt(
        message.created_at,
        estimatedInputTokens(plan?.systemInstruction ?? options.systemInstruction, conversation),
      ),
      searchesSoFar: plan === undefined ? 0 : 1,
      ...(plan === undefined
        ? {}
        : { grounded: { citations: plan.citations, grounding: plan.grounding, filter: plan.filter } }),
    }).run();
  }

  /**
   * The user's answer to a waiting tool call (`POST /chat/approve`): in one transaction the message must be the
   * caller's (else 404), waiting, on this very call (else 409: not waiting, another call, or already answered);
   * it goes back to `streaming` with the call approved or declined. The answer then goes on from where it
   * stopped, on the model that was answering, with the stored history of its calls; its new events follow on
   * `sink` (a declined call is told to the model as declined).
   */
  async approve(
    user: AuthenticatedUser,
    body: unknown,
    startedAt: number,
    admissions: readonly TransactionCheck[] = [],
  ): Promise<ApprovedTurn> {
    const { database, activeStreams, text, now } = this.#dependencies;
    if (!activeStreams.accepting) throw unavailable("The server is restarting. Try again in a moment.");
    const input = parseInput(approveBodySchema, body);
    const path = paths.message(user.uid, input.message_id);
    const message = await database.transaction(async (transaction) => {
      const documents = await readTogether(transaction, [path], admissions);
      // Admissions first, in every attempt, so what they recorded of an earlier attempt never outlives it.
      const admitted = await decideAll(documents, transaction, admissions);
      const stored = documents.data<MessageRecord>(path);
      if (stored === undefined) throw notFound("Message");
      const waiting = stored.status === "awaiting_approval" ? waitingCall(stored) : undefined;
      if (waiting === undefined) throw new AppError("conflict", "This answer is not waiting for an approval.");
      if ((stored.approval_expires_at?.getTime() ?? Number.POSITIVE_INFINITY) <= now()) {
        throw new AppError("conflict", "This question has expired: ask again.");
      }
      if (waiting.call_id !== input.call_id) {
        throw new AppError("conflict", `This answer waits on ${waiting.call_id}, not ${input.call_id}.`, {
          details: { call_id: waiting.call_id },
        });
      }
      const declined = "The user declined this call.";
      const decided: ToolCallRecord = input.approved
        ? { ...waiting, status: "running", approved: true }
        : {
            ...waiting,
            status: "declined",
            ok: false,
            error: declined,
            response_json: JSON.stringify({ ok: false, declined: true }),
          };
      // A stop or a resumer's heartbeat from before the pause belongs to the stream that paused, not to this one.
      const { approval_expires_at: _answered, stop_requested_at: _stopped, attached_at: _attached, ...rest } = stored;
      const continued: MessageRecord = {
        ...rest,
        status: "streaming",
        alive_at: new Date(now()),
        tool_calls: (stored.tool_calls ?? []).map((call) => (call.call_id === waiting.call_id ? decided : call)),
      };
      for (const write of admitted) write(transaction);
      transaction.set(path, continued);
      return continued;
    });
    const entry = text.choose(message.model).model;
    return { uid: user.uid, user, message, callId: input.call_id, models: { model: entry, chain: [] }, startedAt };
  }

  /** Streams the rest of an approved (or declined) answer. */
  async continue(approved: ApprovedTurn, sink: ChatEventSink): Promise<void> {
    const { database, options } = this.#dependencies;
    const { uid, message } = approved;
    const decided = message.tool_calls?.find((call) => call.call_id === approved.callId && call.status === "declined");
    sink.send(metaEvent(message, true), message.content.length);
    if (decided !== undefined) sink.send({ event: "tool_result", data: toolResultOf(decided) }, message.content.length);
    let conversation;
    try {
      // The question's pictures go to the model again (cleaned again: an upload deleted since is left out).
      const [question] = await database.query<MessageRecord>(
        queries.recentChatMessages(uid, message.chat_id, message.seq, 1),
      );
      const images = await this.#readAttachments(uid, question?.data.attachments ?? []).catch(() => []);
      conversation = await loadConversation(database, uid, message, images, options.context);
    } catch (error) {
      await this.#failBeforeStream(uid, message, error, sink);
      return;
    }
    await this.#session({
      uid,
      message,
      continuing: true,
      generate: this.#answer(approved.user, message, {
        choice: approved.models,
        request: {
          systemInstruction:
            message.grounding_requested === true
              ? groundedInstruction(options.systemInstruction, message.grounding ?? [])
              : options.systemInstruction,
          ...(message.citations === undefined ? {} : { sources: message.citations }),
          includeThoughts: message.thinking !== undefined,
        },
        contents: conversation,
        earlier: { content: message.content, calls: message.tool_calls ?? [] },
        sourceCount: message.citations?.length ?? 0,
        ...(message.usage === undefined ? {} : { usageSoFar: usageOf(message.usage) }),
      }),
      sink,
      startedAt: approved.startedAt,
      receipt: this.#dependencies.cost.receipt(
        message.created_at,
        (message.usage?.input_tokens ?? 0) + estimatedInputTokens(options.systemInstruction, conversation),
      ),
      searchesSoFar: message.usage?.search_queries ?? 0,
    }).run();
  }

  /** An answer's model and tools taking turns, for this user in this message's chat, with this server's tools. */
  #answer(
    user: AuthenticatedUser,
    message: MessageRecord,
    turn: Omit<ToolLoopInput, "text" | "tools" | "maxSteps" | "context">,
  ): (signal: AbortSignal) => AsyncIterable<AnswerEvent> {
    const { text, tools, options, database, cost, now } = this.#dependencies;
    const systemInstruction = turn.request.systemInstruction;
    const reserve = (micros: number) =>
      extendWithinBudget(database, {
        uid: user.uid,
        claims: user,
        budgets: options.quotas.budgets,
        recordPath: paths.message(user.uid, message.message_id),
        micros,
        now: new Date(now()),
      });
    const affordRound = (model: TextModelEntry, contents: readonly ConversationTurn[]) =>
      reserve(
        cost.reservation(
          [model],
          (entry) => text.outputCap(entry),
          estimatedInputTokens(systemInstruction, contents),
          0,
          message.created_at,
        ),
      );
    const reserveSearch = () => reserve(cost.search(message.created_at));
    return (signal) =>
      toolLoop(
        {
          ...turn,
          text,
          affordRound,
          ...(tools === undefined ? {} : { tools }),
          maxSteps: options.tools.maxSteps,
          context: { user, chatId: message.chat_id, messageId: message.message_id, reserveSearch },
        },
        signal,
      );
  }

  /**
   * A failure after the start (or an approval) but before the answer's session runs (reading the conversation,
   * the grounding search): nothing generates this answer yet, so it ends `error` here, and the stream with it,
   * rather than stay `streaming` until the sweep.
   */
  async #failBeforeStream(uid: string, message: MessageRecord, error: unknown, sink: ChatEventSink): Promise<void> {
    const { database, logger, now } = this.#dependencies;
    const appError = isProviderError(error) ? error.toAppError() : toAppError(error);
    logger.warn("stream preparation failed", { message_id: message.message_id, ...describeError(error, false) });
    const finished = await finishMessage(
      database,
      uid,
      message.message_id,
      { status: "error", error: { code: appError.code, message: appError.message } },
      new Date(now()),
    );
    sink.send(
      { event: "error", data: { code: appError.code, message: finished?.error ?? appError.message } },
      message.content.length,
    );
    sink.end();
  }

  #session(input: ConstructorParameters<typeof StreamSession>[1]): StreamSession {
    const { database, logger, activeStreams, options, now, telemetry } = this.#dependencies;
    return new StreamSession(
      {
        database,
        logger,
        activeStreams,
        telemetry,
        now,
        approvalTimeoutMs: options.tools.approvalTimeoutMs,
        timing: {
          updateIntervalMs: options.timing.updateIntervalMs,
          aliveIntervalMs: aliveIntervalMs(options.timing.staleMs),
          graceMs: options.timing.graceMs,
          attachTimeoutMs: options.timing.attachTimeoutMs,
        },
      },
      input,
    );
  }
}
