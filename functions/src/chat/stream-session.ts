import { SpanStatusCode } from "@opentelemetry/api";
import { attributes, inSpan, type Telemetry } from "../telemetry/telemetry.ts";
import type { DocumentDatabase } from "../database/document-database.ts";
import type { AppError } from "../errors/app-error.ts";
import { toAppError } from "../errors/error-mapping.ts";
import { describeError, type Logger } from "../logging/logger.ts";
import { isProviderError } from "../providers/provider-error.ts";
import type { TextUsage } from "../providers/text-provider.ts";
import { paths } from "../store/paths.ts";
import type { MessageRecord, ToolCallRecord } from "../store/records.ts";
import type { UsageRecord } from "../store/usage-ledger.ts";
import type { AnswerEvent, NewToolCall } from "./tool-loop.ts";
import type { GroundingSource, ToolOutcome } from "../tools/chat-tool.ts";
import { CitationFilter } from "../grounding/citation-filter.ts";
import type { Citation } from "../contract/chat-events.ts";
import type { GroundingResult } from "../contract/resources.ts";
import { toolResultOf } from "./tool-call-view.ts";
import type { ActiveStream, ActiveStreams } from "./active-streams.ts";
import type { ChatEventSink } from "./chat-event-sink.ts";
import { finishMessage, terminalEvent, type MessageOutcome } from "./finish-message.ts";

/**
 * One assistant answer being generated: provider text goes to the client as `token` events and into the
 * message document, coalesced; thought summaries likewise as `thinking` events into the message's `thinking`
 * field, never into its content. Every `updateIntervalMs` the session writes the new content (if any) in a
 * transaction that also reads the message's control fields, so a stop from any instance, a resumer's
 * `attached_at` heartbeat, or a message deleted or finalised elsewhere is noticed within one interval. That is
 * the message's only writer while it streams: one write per interval at most, Firestore's sustained rate for one
 * document. `alive_at` is renewed every `aliveIntervalMs`, even while the model is still silent (a slow first
 * token, a fallback), so nobody mistakes a live answer for a dead one; `updated_at` moves only at the end.
 *
 * Tool calls go out as `tool_call` and `tool_result` events and into the message's `tool_calls` (with the content
 * offset they came at, so replays show them in place) on the next coalesced write. A call that needs the user's
 * approval ends the stream with `approval_required` and leaves the message `awaiting_approval` until
 * `approvalTimeoutMs` has passed; a continued answer (`POST /chat/approve`) starts from the stored content and calls.
 *
 * A client that disconnects does not end the answer: generation goes on into the store while anyone is
 * attached (this client, or a resumer's fresh heartbeat) and for `graceMs` after the last one left; then the
 * provider call is aborted and the message ends `aborted` with its partial content.
 */

interface StreamTiming {
  readonly updateIntervalMs: number;
  /** How often `alive_at` is renewed: well within the staleness after which others end the message. */
  readonly aliveIntervalMs: number;
  readonly graceMs: number;
  /** A resumer counts as attached while its heartbeat is younger than this. */
  readonly attachTimeoutMs: number;
}

interface StreamSessionInput {
  readonly uid: string;
  readonly message: MessageRecord;
  /** Starts the model call (with its fallbacks and tools); the signal aborts it. */
  readonly generate: (signal: AbortSignal) => AsyncIterable<AnswerEvent>;
  /** True when this continues a waiting answer: its content and calls so far are kept and added to. */
  readonly continuing?: boolean;
  readonly sink: ChatEventSink;
  /** When the client's request arrived: `latency_ms` counts from here. */
  readonly startedAt: number;
  /**
   * The answer's receipt so far: what `model` used (`usage`, unknown when the provider never said, as when the
   * answer was stopped) and the web searches made for it, priced. `content` is what was written.
   */
  readonly receipt: (model: string, usage: TextUsage | undefined, searches: number, content: string) => UsageRecord;
  /** Web searches the answer had already made when this session started (its grounding, or before a pause). */
  readonly searchesSoFar: number;
  /** A grounded request's sources and the filter that checks the answer's `[n]` markers against them. */
  readonly grounded?: {
    readonly citations: readonly Citation[];
    readonly grounding: readonly GroundingResult[];
    readonly filter: CitationFilter;
  };
}

interface StreamSessionDependencies {
  readonly database: DocumentDatabase;
  readonly logger: Logger;
  readonly activeStreams: ActiveStreams;
  readonly timing: StreamTiming;
  /** How long an answer waits for the user's approval of a tool call. */
  readonly approvalTimeoutMs: number;
  readonly telemetry: Telemetry;
  readonly now: () => number;
}

/** How much of each search result a message keeps (the model read up to this much too). */
const STORED_SOURCE_CHARACTERS = 1_500;

type AbortReason = "stopped" | "abandoned" | "shutdown" | "gone";

const ABORT_MESSAGES: Readonly<Record<Exclude<AbortReason, "gone">, string>> = {
  stopped: "Stopped by the user.",
  abandoned: "The client disconnected and nobody resumed the answer.",
  shutdown: "The server was restarting; the answer was cut short.",
};

interface ControlState {
  readonly exists: boolean;
  readonly streaming: boolean;
  readonly stopRequested: boolean;
  readonly attachedAt: number | undefined;
}

export class StreamSession implements ActiveStream {
  readonly messageId: string;
  readonly #dependencies: StreamSessionDependencies;
  readonly #input: StreamSessionInput;
  readonly #controller = new AbortController();
  #abortReason: AbortReason | undefined;
  #content = "";
  #thinking = "";
  #toolCalls: ToolCallRecord[] = [];
  /** Changes to `#toolCalls` made, and written. */
  #toolCallVersion = 0;
  #persistedToolCallVersion = 0;
  /** The call the answer waits on, once the model asked for one that needs approval. */
  #awaiting: string | undefined;
  /** The answer's web sources (a grounded request's, then any its searches found) and their marker check. */
  #citations: Citation[] = [];
  #grounding: GroundingResult[] = [];
  #filter: CitationFilter | undefined;
  #persistedLength = 0;
  #persistedThinkingLength = 0;
  /** Sources stored on the message so far: a grounded answer's are stored with its first write. */
  #persistedCitationCount: number;
  #aliveWrittenAt: number;
  /** Who answers, once the model has produced its first output. */
  #answeredBy: Partial<MessageRecord> = {};
  /** Tokens used, as the provider last reported them (for every round so far), and web searches made. */
  #usage: TextUsage | undefined;
  #searches: number;
  /** How the answer ended, for its span: the model's finish reason, and the message as it was finally stored. */
  #finishReason = "STOP";
  #ended: MessageRecord | undefined;
  #lastAttachedAt: number;
  #tick: Promise<void> | undefined;
  #finished: Promise<void> | undefined;

  constructor(dependencies: StreamSessionDependencies, input: StreamSessionInput) {
    this.#dependencies = dependencies;
    this.#input = input;
    this.messageId = input.message.message_id;
    this.#searches = input.searchesSoFar;
    this.#lastAttachedAt = dependencies.now();
    this.#aliveWrittenAt = input.message.alive_at?.getTime() ?? dependencies.now();
    this.#citations = [...(input.grounded?.citations ?? input.message.citations ?? [])];
    this.#persistedCitationCount = input.message.citations?.length ?? 0;
    this.#grounding = [...(input.grounded?.grounding ?? input.message.grounding ?? [])];
    this.#filter =
      input.grounded?.filter ?? (this.#citations.length > 0 ? new CitationFilter(this.#citations.length) : undefined);
    if (input.continuing === true) {
      this.#content = input.message.content;
      this.#persistedLength = this.#content.length;
      this.#thinking = input.message.thinking ?? "";
      this.#persistedThinkingLength = this.#thinking.length;
      this.#toolCalls = [...(input.message.tool_calls ?? [])];
    }
    input.sink.onDisconnect(() => {
      this.#lastAttachedAt = this.#dependencies.now();
    });
  }

  /** Generates the answer to the end (or abort) and writes its final state. */
  run(): Promise<void> {
    this.#finished ??= this.#traced();
    return this.#finished;
  }

  /**
   * The answer as one span (`chat <model>`, GenAI attributes: the model asked and the one that answered, tokens,
   * finish reason; lengths, never text), with the time to its first token and its cost as metrics.
   */
  #traced(): Promise<void> {
    const { tracer, metrics } = this.#dependencies.telemetry;
    const { message } = this.#input;
    return inSpan(
      tracer,
      `chat ${message.model ?? ""}`,
      {
        attributes: attributes({
          "gen_ai.operation.name": "chat",
          "gen_ai.request.model": message.model,
          "atelier.message_id": message.message_id,
          "atelier.chat_id": message.chat_id,
          "atelier.continuing": this.#input.continuing === true,
        }),
      },
      async (span) => {
        await this.#run();
        const ended = this.#ended;
        const usage = ended?.usage;
        span.setAttributes(
          attributes({
            "gen_ai.response.model": ended?.model,
            "gen_ai.response.finish_reasons": [this.#finishReason],
            "gen_ai.usage.input_tokens": usage?.input_tokens,
            "gen_ai.usage.output_tokens":
              usage === undefined ? undefined : usage.output_tokens + (usage.thinking_tokens ?? 0),
            "atelier.status": ended?.status ?? "gone",
            "atelier.provider_run": ended?.provider,
            "atelier.content_length": this.#content.length,
            "atelier.tool_calls": this.#toolCalls.length,
            "atelier.cost_micros": usage?.cost_micros,
          }),
        );
        if (ended?.status === "error") span.setStatus({ code: SpanStatusCode.ERROR });
        if (usage !== undefined && usage.cost_micros > 0) {
          metrics.cost.add(usage.cost_micros, {
            "atelier.kind": "text",
            "atelier.provider_run": ended?.provider ?? "live",
          });
        }
      },
    );
  }

  async abort(reason: "stopped" | "shutdown"): Promise<void> {
    this.#requestAbort(reason);
    await this.#finished;
  }

  async #run(): Promise<void> {
    const { activeStreams, timing, logger } = this.#dependencies;
    activeStreams.add(this);
    const ticker = setInterval(() => {
      this.#tick ??= this.#onTick().finally(() => (this.#tick = undefined));
    }, timing.updateIntervalMs);
    let outcome: MessageOutcome;
    let finishReason = "STOP";
    try {
      for await (const event of this.#input.generate(this.#controller.signal)) {
        if (event.type === "text") this.#emit(this.#filter?.push(event.text) ?? event.text);
        else if (event.type === "thinking") this.#think(event.text);
        else if (event.type === "tool_calls") this.#called(event.calls);
        else if (event.type === "tool_result") this.#answered(event.callId, event.outcome);
        else if (event.type === "approval_required") {
          this.#awaiting = event.callId;
          this.#changeCall(event.callId, { status: "awaiting_approval" });
        } else if (event.type === "answering") {
          this.#answeredBy = {
            model: event.model,
            provider: event.run,
            ...(event.fallbackFrom === undefined ? {} : { fallback_from: event.fallbackFrom }),
          };
        } else {
          finishReason = event.finishReason;
          this.#finishReason = finishReason;
          this.#usage = event.usage ?? this.#usage;
          if (event.modelVersion !== undefined && !event.modelVersion.startsWith(this.#answeredBy.model ?? "")) {
            // A deprecated model silently re-routed by the provider answers under another name.
            logger.warn("model answered as another version", {
              message_id: this.messageId,
              model: this.#answeredBy.model,
              model_version: event.modelVersion,
            });
          }
        }
        if (this.#abortReason !== undefined) break;
      }
      this.#emit(this.#filter?.flush() ?? "");
      outcome =
        this.#abortReason === undefined && this.#awaiting !== undefined
          ? {
              status: "awaiting_approval",
              content: this.#content,
              fields: {
                ...this.#answeredBy,
                ...this.#partialFields(),
                approval_expires_at: new Date(this.#dependencies.now() + this.#dependencies.approvalTimeoutMs),
              },
            }
          : this.#abortReason === undefined
            ? {
                status: "done",
                content: this.#content,
                fields: {
                  ...this.#answeredBy,
                  finish_reason: finishReason,
                  latency_ms: Math.round(this.#dependencies.now() - this.#input.startedAt),
                  usage: this.#receipt(),
                  ...(this.#thinking === "" ? {} : { thinking: this.#thinking }),
                  ...(this.#toolCalls.length === 0 ? {} : { tool_calls: this.#toolCalls }),
                  ...this.#citationFields(),
                },
              }
            : this.#abortedOutcome(this.#abortReason);
    } catch (error) {
      if (this.#abortReason !== undefined) {
        outcome = this.#abortedOutcome(this.#abortReason);
      } else {
        const appError: AppError = isProviderError(error) ? error.toAppError() : toAppError(error);
        if (appError.code === "internal")
          logger.error("stream failed", { message_id: this.messageId, ...describeError(error) });
        else
          logger.warn("stream failed", {
            message_id: this.messageId,
            code: appError.code,
            ...describeError(error, false),
          });
        outcome = {
          status: "error",
          content: this.#content,
          error: { code: appError.code, message: appError.message },
          fields: { ...this.#answeredBy, ...this.#partialFields() },
        };
      }
    } finally {
      clearInterval(ticker);
      await this.#tick;
    }

    try {
      // When the message was finalised or deleted elsewhere ("gone"), this leaves it as it is and reports it.
      const finished = await finishMessage(
        this.#dependencies.database,
        this.#input.uid,
        this.messageId,
        outcome,
        new Date(this.#dependencies.now()),
      );
      this.#ended = finished ?? undefined;
      const { sink } = this.#input;
      sink.send(
        finished === null
          ? { event: "error", data: { code: "aborted", message: "This answer no longer exists." } }
          : terminalEvent(finished),
        this.#content.length,
      );
      sink.end();
      logger.info("stream_end", {
        message_id: this.messageId,
        chat_id: this.#input.message.chat_id,
        status: finished?.status ?? "gone",
        ...(this.#answeredBy.model === undefined ? {} : { model: this.#answeredBy.model }),
        ...(this.#answeredBy.fallback_from === undefined ? {} : { fallback_from: this.#answeredBy.fallback_from }),
        content_length: this.#content.length,
        ...(this.#thinking === "" ? {} : { thinking_length: this.#thinking.length }),
        latency_ms: Math.round(this.#dependencies.now() - this.#input.startedAt),
        client_connected: sink.connected,
      });
    } finally {
      activeStreams.delete(this);
    }
  }

  #emit(text: string): void {
    if (text === "") return;
    if (this.#content === "" && this.#input.continuing !== true) {
      this.#dependencies.telemetry.metrics.timeToFirstToken.record(
        (this.#dependencies.now() - this.#input.startedAt) / 1000,
        attributes({ "gen_ai.operation.name": "chat", "gen_ai.request.model": this.#input.message.model }),
      );
    }
    this.#content += text;
    this.#input.sink.send({ event: "token", data: { text } }, this.#content.length);
  }

  /** A piece of thought summary: to the client and the message's `thinking`, outside the content offset. */
  #think(text: string): void {
    if (text === "") return;
    this.#thinking += text;
    this.#input.sink.send({ event: "thinking", data: { text } }, this.#content.length);
  }

  /** The answer's receipt as it stands (`finishMessage` makes a failed answer's free). */
  #receipt(): UsageRecord {
    const model = this.#answeredBy.model ?? this.#input.message.model ?? "";
    return this.#input.receipt(model, this.#usage, this.#searches, this.#content);
  }

  /** What an unfinished answer keeps besides its content. */
  #partialFields(): Partial<MessageRecord> {
    return {
      latency_ms: Math.round(this.#dependencies.now() - this.#input.startedAt),
      usage: this.#receipt(),
      ...(this.#thinking === "" ? {} : { thinking: this.#thinking }),
      ...(this.#toolCalls.length === 0 ? {} : { tool_calls: this.#toolCalls }),
      ...this.#citationFields(),
    };
  }

  /** A round of calls: each to the client now and into the message at the next write, at the current offset. */
  #called(calls: readonly NewToolCall[]): void {
    // The round's words are complete: what the marker check still holds goes out before the calls.
    this.#emit(this.#filter?.flush() ?? "");
    for (const { arguments: input, ...call } of calls) {
      this.#toolCalls.push({
        ...call,
        arguments_json: JSON.stringify(input),
        offset: this.#content.length,
        status: "running",
      });
      this.#input.sink.send(
        { event: "tool_call", data: { call_id: call.call_id, name: call.name, arguments: input } },
        this.#content.length,
      );
    }
    this.#toolCallVersion += 1;
  }

  /** The sources' fields of a finished answer: which ones it cites, and how many markers were removed. */
  #citationFields(): Partial<MessageRecord> {
    const filter = this.#filter;
    if (filter === undefined) return {};
    return {
      citations: this.#citations.map((citation) => ({
        ...citation,
        used: citation.used === true || filter.used.has(citation.index),
      })),
      citations_removed: filter.removed,
      ...(this.#grounding.length === 0 ? {} : { grounding: this.#grounding }),
    };
  }

  /** Sources a search of the model's found: citable from now on, shown to the client, stored with the calls. */
  #found(sources: readonly GroundingSource[]): void {
    if (sources.length === 0) return;
    for (const { index, title, url, content, score } of sources) {
      this.#citations.push({ index, title, url });
      this.#grounding.push({ title, url, content: content.slice(0, STORED_SOURCE_CHARACTERS), score });
    }
    this.#filter ??= new CitationFilter(0);
    this.#filter.extend(this.#citations.length);
    this.#toolCallVersion += 1;
    this.#input.sink.send({ event: "sources", data: { citations: this.#citations } }, this.#content.length);
  }

  #answered(callId: string, outcome: ToolOutcome): void {
    this.#found(outcome.sources ?? []);
    this.#searches += outcome.searchQueries ?? 0;
    this.#changeCall(callId, {
      status: outcome.ok ? "done" : "error",
      ok: outcome.ok,
      response_json: JSON.stringify(outcome.response),
      ...(outcome.summary === undefined ? {} : { summary: outcome.summary }),
      ...(outcome.jobId === undefined ? {} : { job_id: outcome.jobId }),
      ...(outcome.error === undefined ? {} : { error: outcome.error }),
    });
    this.#input.sink.send({ event: "tool_result", data: toolResultOf(this.#toolCall(callId)) }, this.#content.length);
  }

  #toolCall(callId: string): ToolCallRecord {
    const call = this.#toolCalls.find((candidate) => candidate.call_id === callId);
    if (call === undefined) throw new Error(`no tool call ${callId}`);
    return call;
  }

  #changeCall(callId: string, change: Partial<ToolCallRecord>): void {
    const index = this.#toolCalls.findIndex((candidate) => candidate.call_id === callId);
    if (index < 0) return;
    this.#toolCalls[index] = { ...this.#toolCall(callId), ...change };
    this.#toolCallVersion += 1;
  }

  #abortedOutcome(reason: AbortReason): MessageOutcome {
    return {
      status: "aborted",
      content: this.#content,
      error: { code: "aborted", message: ABORT_MESSAGES[reason === "gone" ? "stopped" : reason] },
      fields: { ...this.#answeredBy, ...this.#partialFields() },
    };
  }

  #requestAbort(reason: AbortReason): void {
    if (this.#abortReason !== undefined) return;
    this.#abortReason = reason;
    this.#controller.abort(new Error(`stream ${reason}`));
  }

  /** One coalesced write (or, with nothing new, one read) and the decisions it informs. */
  async #onTick(): Promise<void> {
    if (this.#abortReason !== undefined) return;
    let control: ControlState;
    try {
      control = await this.#persist();
    } catch (error) {
      // A failed interim write is retried on the next tick; the final write decides the message's fate.
      this.#dependencies.logger.warn("interim write failed", {
        message_id: this.messageId,
        ...describeError(error, false),
      });
      return;
    }
    const now = this.#dependencies.now();
    if (!control.exists || !control.streaming) return this.#requestAbort("gone");
    if (control.stopRequested) return this.#requestAbort("stopped");
    const { attachTimeoutMs, graceMs } = this.#dependencies.timing;
    if (this.#input.sink.connected) this.#lastAttachedAt = now;
    else if (control.attachedAt !== undefined && now - control.attachedAt < attachTimeoutMs) {
      this.#lastAttachedAt = Math.max(this.#lastAttachedAt, control.attachedAt);
    } else if (now - this.#lastAttachedAt >= graceMs) {
      this.#requestAbort("abandoned");
    }
  }

  async #persist(): Promise<ControlState> {
    const { database } = this.#dependencies;
    const path = paths.message(this.#input.uid, this.messageId);
    const content = this.#content;
    const thinking = this.#thinking;
    const now = this.#dependencies.now();
    const aliveDue = now - this.#aliveWrittenAt >= this.#dependencies.timing.aliveIntervalMs;
    const toolCallVersion = this.#toolCallVersion;
    const callsChanged = toolCallVersion !== this.#persistedToolCallVersion;
    const toolCalls = this.#toolCalls;
    const citationCount = this.#citations.length;
    const sourcesChanged = citationCount !== this.#persistedCitationCount;
    const changed =
      content.length !== this.#persistedLength ||
      thinking.length !== this.#persistedThinkingLength ||
      callsChanged ||
      sourcesChanged;
    if (!changed && !aliveDue) return controlOf(await database.get<MessageRecord>(path));
    const state = await database.transaction(async (transaction) => {
      const current = await transaction.get<MessageRecord>(path);
      const control = controlOf(current);
      if (control.streaming && !control.stopRequested) {
        transaction.update(path, {
          // The receipt so far goes with the content: whoever ends this answer (a stop, a deletion, the sweep)
          // charges what it had used.
          ...(changed ? { content, ...(thinking === "" ? {} : { thinking }), usage: this.#receipt() } : {}),
          ...(callsChanged ? { tool_calls: toolCalls } : {}),
          ...(sourcesChanged ? { citations: this.#citations, grounding: this.#grounding } : {}),
          ...(aliveDue ? { alive_at: new Date(now) } : {}),
        });
      }
      return control;
    });
    if (state.streaming && !state.stopRequested) {
      this.#persistedLength = content.length;
      this.#persistedThinkingLength = thinking.length;
      this.#persistedToolCallVersion = toolCallVersion;
      this.#persistedCitationCount = citationCount;
      if (aliveDue) this.#aliveWrittenAt = now;
    }
    return state;
  }
}

/** Stored usage as the provider port counts it (to add to it). */
export function usageOf(usage: UsageRecord): TextUsage {
  return {
    inputTokens: usage.input_tokens,
    outputTokens: usage.output_tokens,
    ...(usage.thinking_tokens === undefined ? {} : { thinkingTokens: usage.thinking_tokens }),
    ...(usage.cached_tokens === undefined ? {} : { cachedTokens: usage.cached_tokens }),
  };
}

function controlOf(document: { data: MessageRecord } | null): ControlState {
  if (document === null) return { exists: false, streaming: false, stopRequested: false, attachedAt: undefined };
  const message = document.data;
  return {
    exists: true,
    streaming: message.status === "streaming",
    stopRequested: message.stop_requested_at !== undefined,
    attachedAt: message.attached_at?.getTime(),
  };
}
