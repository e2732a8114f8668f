import { setTimeout as sleep } from "node:timers/promises";
import type {
  Content,
  GenerateContentConfig,
  GenerateContentResponse,
  GoogleGenAI,
  Part,
  ThinkingConfig,
} from "@google/genai";
import { ProgressDeadline } from "../progress-deadline.ts";
import { ProviderError } from "../provider-error.ts";
import { lazyGeminiClient, type GeminiClientOptions } from "./google-client.ts";
import { classifyGeminiError } from "./google-error.ts";
import type {
  ConversationTurn,
  TextGenerationRequest,
  TextProvider,
  TextStreamEvent,
  TextUsage,
  ToolCallRequest,
} from "../text-provider.ts";

/**
 * Gemini text over `@google/genai` 2.x (`generateContentStream`, API `v1beta`), in the shape Gemini 3 and later
 * expect: a `thinkingLevel` (never the older `thinkingBudget`, which they refuse beside it) and no sampling
 * parameters (deprecated for them since 2026-07-21). What it adds to the SDK:
 * - thought summaries (`includeThoughts`) as `thinking` events, kept apart from the answer's text;
 * - function calling: tools declared as JSON Schema (`parametersJsonSchema`), each `functionCall` part a
 *   `tool_call` event carrying the part's `thoughtSignature`, which goes back on that call's part in the next
 *   request exactly as received (Gemini 3 refuses a history of calls without it); replies as `functionResponse`
 *   parts of a user turn;
 * - retries (429, 5xx, network, timeouts) only before the first token, honouring the API's `retryDelay` when
 *   it is short; once text has reached the user a retry would repeat it, so later failures are final;
 * - a timeout on progress (first chunk and every gap), on top of the caller's abort signal;
 * - safety outcomes as `blocked` (a prompt block, or a finish reason that withholds the output); a malformed
 *   function call as a failure (retried before any output), never an empty answer;
 * - errors classified into `ProviderError`s whose messages never carry the key.
 */

/** Finish reasons that mean the output was withheld, not completed. */
const BLOCKING_FINISH_REASONS = new Set([
  "SAFETY",
  "RECITATION",
  "BLOCKLIST",
  "PROHIBITED_CONTENT",
  "SPII",
  "IMAGE_SAFETY",
  "IMAGE_PROHIBITED_CONTENT",
  "IMAGE_RECITATION",
  "IMAGE_OTHER",
  "NO_IMAGE",
]);

/** Finish reasons that mean the model's tool call was unusable: a glitch to try again, not an answer. */
const FAILED_CALL_FINISH_REASONS: ReadonlySet<string> = new Set(["MALFORMED_FUNCTION_CALL"]);

/** The answer's text, the thought summary's text and the tool calls in one chunk. */
function partsOf(chunk: GenerateContentResponse): { text: string; thought: string; calls: ToolCallRequest[] } {
  const parts: Part[] = chunk.candidates?.[0]?.content?.parts ?? [];
  let text = "";
  let thought = "";
  const calls: ToolCallRequest[] = [];
  for (const part of parts) {
    if (part.functionCall?.name !== undefined) {
      const { id, name, args } = part.functionCall;
      calls.push({
        ...(id === undefined ? {} : { id }),
        name,
        arguments: args ?? {},
        ...(part.thoughtSignature === undefined ? {} : { signature: part.thoughtSignature }),
      });
      continue;
    }
    if (typeof part.text !== "string") continue;
    if (part.thought === true) thought += part.text;
    else text += part.text;
  }
  return { text, thought, calls };
}

/** A conversation turn as Gemini takes it: a tool turn is the user's, made of `functionResponse` parts. */
function contentOf(turn: ConversationTurn): Content {
  if (turn.role === "tool") {
    return {
      role: "user",
      parts: (turn.toolResults ?? []).map((result) => ({
        functionResponse: {
          ...(result.id === undefined ? {} : { id: result.id }),
          name: result.name,
          response: { ...result.response },
        },
      })),
    };
  }
  const parts: Part[] = turn.text === "" && (turn.toolCalls?.length ?? 0) > 0 ? [] : [{ text: turn.text }];
  for (const image of turn.images ?? []) {
    parts.push({ inlineData: { mimeType: image.mimeType, data: image.data.toString("base64") } });
  }
  for (const call of turn.toolCalls ?? []) {
    parts.push({
      functionCall: { ...(call.id === undefined ? {} : { id: call.id }), name: call.name, args: { ...call.arguments } },
      ...(call.signature === undefined ? {} : { thoughtSignature: call.signature }),
    });
  }
  return { role: turn.role, parts };
}

function usageOf(metadata: NonNullable<GenerateContentResponse["usageMetadata"]>): TextUsage {
  return {
    inputTokens: metadata.promptTokenCount ?? 0,
    outputTokens: metadata.candidatesTokenCount ?? 0,
    ...(metadata.thoughtsTokenCount === undefined ? {} : { thinkingTokens: metadata.thoughtsTokenCount }),
    ...(metadata.cachedContentTokenCount === undefined ? {} : { cachedTokens: metadata.cachedContentTokenCount }),
  };
}

/** The generation config: the system instruction, the thinking settings, nothing a Gemini 3 model refuses. */
function configOf(request: TextGenerationRequest, signal: AbortSignal): GenerateContentConfig {
  // The wire takes the level's name in capitals; `XHIGH` is newer than this SDK's enum, so the names are sent
  // as the strings they are rather than through the enum.
  const wireThinking: Record<string, unknown> = {
    ...(request.thinkingLevel === undefined ? {} : { thinkingLevel: request.thinkingLevel.toUpperCase() }),
    ...(request.includeThoughts === true ? { includeThoughts: true } : {}),
  };
  const thinking = wireThinking as ThinkingConfig;
  const tools = request.tools ?? [];
  return {
    systemInstruction: request.systemInstruction,
    abortSignal: signal,
    // On Gemini 3 the cap covers thinking and answer together.
    ...(request.maxOutputTokens === undefined ? {} : { maxOutputTokens: request.maxOutputTokens }),
    ...(Object.keys(thinking).length === 0 ? {} : { thinkingConfig: thinking }),
    ...(tools.length === 0
      ? {}
      : {
          tools: [
            {
              functionDeclarations: tools.map((tool) => ({
                name: tool.name,
                description: tool.description,
                parametersJsonSchema: tool.parameters,
              })),
            },
          ],
        }),
  };
}

interface GeminiTextProviderOptions extends GeminiClientOptions {
  /** Longest wait for the first chunk and between chunks. */
  readonly timeoutMs: number;
  /** Attempts after the first, before any text was delivered. */
  readonly maxRetries?: number;
  /** First backoff; doubles each attempt. */
  readonly retryBaseMs?: number;
  /** A suggested retry delay longer than this is not waited for: the failure is final. */
  readonly maxRetryWaitMs?: number;
}

export class GeminiTextProvider implements TextProvider {
  readonly run = "live" as const;
  readonly #client: () => Promise<GoogleGenAI>;
  readonly #timeoutMs: number;
  readonly #maxRetries: number;
  readonly #retryBaseMs: number;
  readonly #maxRetryWaitMs: number;

  constructor(options: GeminiTextProviderOptions) {
    this.#client = lazyGeminiClient(options);
    this.#timeoutMs = options.timeoutMs;
    this.#maxRetries = options.maxRetries ?? 2;
    this.#retryBaseMs = options.retryBaseMs ?? 500;
    this.#maxRetryWaitMs = options.maxRetryWaitMs ?? 5_000;
  }

  async *stream(request: TextGenerationRequest): AsyncGenerator<TextStreamEvent> {
    const client = await this.#client();
    let delivered = false;
    for (let attempt = 0; ; attempt++) {
      const deadline = new ProgressDeadline(request.signal, this.#timeoutMs);
      try {
        const chunks = await client.models.generateContentStream({
          model: request.model,
          contents: request.contents.map(contentOf),
          config: configOf(request, deadline.signal),
        });
        let finishReason: string | undefined;
        let usage: TextUsage | undefined;
        let modelVersion: string | undefined;
        for await (const chunk of chunks) {
          deadline.arm();
          const blockReason = chunk.promptFeedback?.blockReason;
          if (blockReason !== undefined) {
            throw new ProviderError("gemini", "blocked", "Prompt blocked", { reason: blockReason });
          }
          const { text, thought, calls } = partsOf(chunk);
          if (thought !== "" && request.includeThoughts === true) {
            delivered = true;
            yield { type: "thinking", text: thought };
          }
          if (text !== "") {
            delivered = true;
            yield { type: "text", text };
          }
          for (const call of calls) {
            // A retry could make a different call: once one is out, the attempt is final.
            delivered = true;
            yield { type: "tool_call", call };
          }
          modelVersion ??= chunk.modelVersion;
          const reason = chunk.candidates?.[0]?.finishReason;
          if (reason !== undefined) {
            if (BLOCKING_FINISH_REASONS.has(reason)) {
              throw new ProviderError("gemini", "blocked", "Output blocked", { reason });
            }
            // A tool call the model got wrong is a glitch, not an answer: tried again while nothing reached the
            // user, a failure after that (never an empty "done").
            if (FAILED_CALL_FINISH_REASONS.has(reason)) {
              throw new ProviderError("gemini", "unavailable", "Malformed function call", { reason });
            }
            finishReason = reason;
          }
          if (chunk.usageMetadata !== undefined) usage = usageOf(chunk.usageMetadata);
        }
        yield {
          type: "finish",
          finishReason: finishReason ?? "STOP",
          ...(usage === undefined ? {} : { usage }),
          ...(modelVersion === undefined ? {} : { modelVersion }),
        };
        return;
      } catch (error) {
        const failure = classifyGeminiError("gemini", error, {
          timedOut: deadline.timedOut,
          callerSignal: request.signal,
        });
        const wait =
          failure.retryAfterSeconds === undefined ? this.#retryBaseMs * 2 ** attempt : failure.retryAfterSeconds * 1000;
        if (delivered || !failure.retryable || attempt >= this.#maxRetries || wait > this.#maxRetryWaitMs) {
          throw failure;
        }
        await sleep(wait, undefined, { signal: request.signal }).catch(() => {
          throw new ProviderError("gemini", "aborted", "Cancelled", { cause: error });
        });
      } finally {
        deadline.dispose();
      }
    }
  }
}
