import type OpenAI from "openai";
import type { ChatCompletionChunk, ChatCompletionMessageParam } from "openai/resources/chat/completions";
import { ProgressDeadline } from "../progress-deadline.ts";
import { ProviderError } from "../provider-error.ts";
import type { TextGenerationRequest, TextProvider, TextStreamEvent, TextUsage } from "../text-provider.ts";

/**
 * Any server speaking OpenAI's Chat Completions (Ollama, vLLM, OpenRouter, LiteLLM, ...), through the maintained
 * `openai` SDK pointed at `OPENAI_COMPATIBLE_BASE_URL`: `POST {base}/chat/completions` with `stream: true` and
 * usage in the last chunk. Reasoning text, which these servers send as `delta.reasoning` (Ollama, vLLM, OpenRouter)
 * or `delta.reasoning_content` (older vLLM, DeepSeek), becomes `thinking` events when thoughts are asked for.
 * Like the Gemini adapter: a timeout on progress, the SDK's one retry only before anything streamed, safety
 * stops (`content_filter`) as `blocked`, and errors classified without the key or the server's text.
 */

interface OpenAiCompatibleOptions {
  readonly baseUrl: string;
  /** Servers on a private network often take none. */
  readonly apiKey?: string;
  /** Longest wait for the first chunk and between chunks. */
  readonly timeoutMs: number;
  /** Retries of the initial request (429, 5xx, network) by the SDK, before anything streamed. */
  readonly maxRetries?: number;
}

/** What these servers add to a delta beyond OpenAI's own fields. */
interface ReasoningDelta {
  readonly reasoning?: unknown;
  readonly reasoning_content?: unknown;
}

const FINISH_REASONS: Readonly<Record<string, string>> = {
  stop: "STOP",
  length: "MAX_TOKENS",
  tool_calls: "TOOL_CALLS",
  function_call: "TOOL_CALLS",
};

function messagesOf(request: TextGenerationRequest): ChatCompletionMessageParam[] {
  const turns = request.contents.map((turn): ChatCompletionMessageParam => {
    if (turn.role === "model") return { role: "assistant", content: turn.text };
    const images = turn.images ?? [];
    if (images.length === 0) return { role: "user", content: turn.text };
    return {
      role: "user",
      content: [
        { type: "text", text: turn.text },
        ...images.map((image) => ({
          type: "image_url" as const,
          image_url: { url: `data:${image.mimeType};base64,${image.data.toString("base64")}` },
        })),
      ],
    };
  });
  return [{ role: "system", content: request.systemInstruction }, ...turns];
}

function reasoningOf(delta: unknown): string {
  const { reasoning, reasoning_content: reasoningContent } = (delta ?? {}) as ReasoningDelta;
  if (typeof reasoning === "string") return reasoning;
  return typeof reasoningContent === "string" ? reasoningContent : "";
}

function usageOf(usage: NonNullable<ChatCompletionChunk["usage"]>): TextUsage {
  const thinking = usage.completion_tokens_details?.reasoning_tokens ?? undefined;
  const cached = usage.prompt_tokens_details?.cached_tokens ?? undefined;
  return {
    inputTokens: usage.prompt_tokens,
    // Servers that report reasoning tokens count them inside completion tokens; ours are kept apart.
    outputTokens: usage.completion_tokens - (thinking ?? 0),
    ...(thinking === undefined ? {} : { thinkingTokens: thinking }),
    ...(cached === undefined ? {} : { cachedTokens: cached }),
  };
}

function classify(error: unknown, context: { timedOut: boolean; callerSignal: AbortSignal }): ProviderError {
  if (error instanceof ProviderError) return error;
  if (context.timedOut) {
    return new ProviderError("openai_compatible", "timeout", "No progress within the timeout", { cause: error });
  }
  if (context.callerSignal.aborted) return new ProviderError("openai_compatible", "aborted", "Cancelled");
  const status =
    typeof error === "object" && error !== null && "status" in error && typeof error.status === "number"
      ? error.status
      : undefined;
  const code = typeof error === "object" && error !== null && "code" in error ? String(error.code) : undefined;
  // Keep the server's error code (e.g. `model_not_found`), never its message, which can quote the request.
  const message = `HTTP ${status === undefined ? "error" : String(status)} from the OpenAI-compatible server`;
  const options = { ...(status === undefined ? {} : { status }), ...(code === undefined ? {} : { reason: code }) };
  if (status === 429) return new ProviderError("openai_compatible", "rate_limited", message, options);
  if (status !== undefined && status >= 500) {
    return new ProviderError("openai_compatible", "unavailable", message, options);
  }
  if (status !== undefined && status >= 400)
    return new ProviderError("openai_compatible", "rejected", message, options);
  // Connection failures, broken streams, an error event inside the stream.
  return new ProviderError("openai_compatible", "unavailable", "The OpenAI-compatible server failed", options);
}

export class OpenAiCompatibleTextProvider implements TextProvider {
  readonly run = "live" as const;
  readonly #options: OpenAiCompatibleOptions;
  #client: Promise<OpenAI> | undefined;

  constructor(options: OpenAiCompatibleOptions) {
    this.#options = options;
  }

  #openai(): Promise<OpenAI> {
    this.#client ??= import("openai").then(
      ({ default: OpenAIClient }) =>
        new OpenAIClient({
          baseURL: this.#options.baseUrl,
          // The SDK insists on a key; keyless servers ignore the header.
          apiKey: this.#options.apiKey ?? "none",
          maxRetries: this.#options.maxRetries ?? 1,
        }),
    );
    return this.#client;
  }

  async *stream(request: TextGenerationRequest): AsyncGenerator<TextStreamEvent> {
    const client = await this.#openai();
    const deadline = new ProgressDeadline(request.signal, this.#options.timeoutMs);
    try {
      const chunks = await client.chat.completions.create(
        {
          model: request.model,
          messages: messagesOf(request),
          stream: true,
          stream_options: { include_usage: true },
          // `max_tokens`, though OpenAI's own API prefers `max_completion_tokens`: every compatible server
          // (Ollama, vLLM, OpenRouter) takes the older name, and not all of them the newer one.
          // eslint-disable-next-line @typescript-eslint/no-deprecated
          ...(request.maxOutputTokens === undefined ? {} : { max_tokens: request.maxOutputTokens }),
        },
        { signal: deadline.signal },
      );
      let finishReason: string | undefined;
      let usage: TextUsage | undefined;
      let modelVersion: string | undefined;
      for await (const chunk of chunks) {
        deadline.arm();
        modelVersion ??= chunk.model;
        const choice = chunk.choices[0];
        const thought = reasoningOf(choice?.delta);
        if (thought !== "" && request.includeThoughts === true) yield { type: "thinking", text: thought };
        const text = choice?.delta.content ?? "";
        if (text !== "") yield { type: "text", text };
        if (choice?.finish_reason === "content_filter") {
          throw new ProviderError("openai_compatible", "blocked", "Output blocked", { reason: "CONTENT_FILTER" });
        }
        if (choice?.finish_reason !== undefined && choice.finish_reason !== null) {
          finishReason = FINISH_REASONS[choice.finish_reason] ?? choice.finish_reason.toUpperCase();
        }
        if (chunk.usage !== undefined && chunk.usage !== null) usage = usageOf(chunk.usage);
      }
      // The SDK ends an aborted stream quietly rather than throwing: a cut-short answer must not look finished.
      if (deadline.signal.aborted) throw new Error("aborted");
      yield {
        type: "finish",
        finishReason: finishReason ?? "STOP",
        ...(usage === undefined ? {} : { usage }),
        ...(modelVersion === undefined ? {} : { modelVersion }),
      };
    } catch (error) {
      throw classify(error, { timedOut: deadline.timedOut, callerSignal: request.signal });
    } finally {
      deadline.dispose();
    }
  }
}
