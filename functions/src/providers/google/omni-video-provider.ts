import type { GoogleGenAI } from "@google/genai";
import { ProviderError, type ProviderFailure } from "../provider-error.ts";
import type { VideoGenerationRequest, VideoPoll, VideoProvider, VideoStart } from "../video-provider.ts";
import { lazyGeminiClient, type GeminiClientOptions } from "./google-client.ts";
import { classifyGeminiError } from "./google-error.ts";

/**
 * Gemini Omni video through the Interactions API (`@google/genai` 2.x `interactions`): a background interaction
 * is created (`POST /v1beta/interactions`, `background: true`, `store: true` so that a later edit can continue it
 * with `previous_interaction_id`) and polled by its id from later invocations (`GET /v1beta/interactions/{id}`).
 * The clip arrives inline (base64) or, when large, as a URI fetched with the key.
 *
 * The Interactions client retries 429 and 5xx on its own, five times in about seven seconds, create included:
 * here retries are off per call, so that Cloud Tasks and the model fallback chain decide what happens next.
 */

interface OmniVideoProviderOptions extends GeminiClientOptions {
  /** Longest wait for one request to the API. */
  readonly requestTimeoutMs: number;
}

const DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com";
const MAX_REDIRECTS = 5;
const ENDED_WITHOUT_VIDEO = new Set(["failed", "cancelled", "incomplete", "budget_exceeded"]);

interface InteractionError {
  readonly code?: string | number;
  readonly message?: string;
}

/** How an interaction that ended without a video failed, from its error code. */
function failureOf(status: string, error: InteractionError | undefined): ProviderFailure {
  const code = String(error?.code ?? "").toUpperCase();
  if (/SAFETY|BLOCK|PROHIBIT|RAI|RESPONSIBLE/.test(code)) return "blocked";
  if (/INVALID_ARGUMENT|FAILED_PRECONDITION|^3$|^9$/.test(code) || status === "budget_exceeded") return "rejected";
  if (/RESOURCE_EXHAUSTED|^8$/.test(code)) return "rate_limited";
  return "unavailable";
}

export class OmniVideoProvider implements VideoProvider {
  readonly run = "live" as const;
  readonly #client: () => Promise<GoogleGenAI>;
  readonly #options: OmniVideoProviderOptions;

  constructor(options: OmniVideoProviderOptions) {
    this.#client = lazyGeminiClient(options);
    this.#options = options;
  }

  async start(request: VideoGenerationRequest): Promise<VideoStart> {
    const client = await this.#client();
    const input =
      request.image === undefined
        ? request.prompt
        : [
            { type: "text" as const, text: request.prompt },
            { type: "image" as const, data: request.image.data.toString("base64"), mime_type: request.image.mimeType },
          ];
    try {
      const interaction = await client.interactions.create(
        {
          model: request.model,
          input,
          response_format: {
            type: "video",
            ...(request.aspectRatio === undefined ? {} : { aspect_ratio: request.aspectRatio }),
            ...(request.durationSeconds === undefined ? {} : { duration: `${String(request.durationSeconds)}s` }),
          },
          background: true,
          store: true,
          ...(request.continueFrom === undefined ? {} : { previous_interaction_id: request.continueFrom }),
        },
        { maxRetries: 0, timeout: this.#options.requestTimeoutMs },
      );
      if (interaction.id === "") throw new ProviderError("omni", "unavailable", "Omni returned no interaction id");
      // Refused at once: nothing was generated, so the failure is judged like any failed call (a quota error
      // may be retried, or handed to the next model).
      this.#throwIfEnded(interaction.status, interaction.errors?.[0], { final: false });
      return { operation: interaction.id, interactionId: interaction.id };
    } catch (error) {
      throw classifyGeminiError("omni", error, { timedOut: false });
    }
  }

  async poll(operation: string): Promise<VideoPoll> {
    const client = await this.#client();
    let interaction;
    try {
      interaction = await client.interactions.get(
        operation,
        {},
        { maxRetries: 0, timeout: this.#options.requestTimeoutMs },
      );
    } catch (error) {
      throw classifyGeminiError("omni", error, { timedOut: false });
    }
    if (interaction.status === "queued" || interaction.status === "in_progress") return { done: false };
    // The SDK always fills `steps`; a failed output step carries its own error.
    const failedStep = interaction.steps.find((step) => step.type === "model_output" && step.error !== undefined) as
      { readonly error?: InteractionError } | undefined;
    this.#throwIfEnded(interaction.status, interaction.errors?.[0] ?? failedStep?.error, { final: true });
    if (interaction.status !== "completed") {
      throw new ProviderError("omni", "unavailable", `Omni interaction in unexpected state ${interaction.status}`, {
        retryable: false,
      });
    }
    const video = interaction.output_video;
    const mimeType = video?.mime_type ?? "video/mp4";
    if (video?.data !== undefined && video.data !== "") {
      return { done: true, video: { mimeType, data: Buffer.from(video.data, "base64") } };
    }
    if (video?.uri !== undefined && video.uri !== "") {
      return { done: true, video: { mimeType, data: await this.#download(video.uri) } };
    }
    // Completed with words but no clip: the model declined to make this video.
    throw new ProviderError("omni", "blocked", "Omni returned no video", { reason: "NO_VIDEO" });
  }

  /** `final`: the interaction ended after it was started, so polling it again cannot change the outcome. */
  #throwIfEnded(status: string, error: InteractionError | undefined, options: { final: boolean }): void {
    if (!ENDED_WITHOUT_VIDEO.has(status)) return;
    const failure = failureOf(status, error);
    const code = String(error?.code ?? status);
    throw new ProviderError("omni", failure, `Omni interaction ${status} (${code})`, {
      ...(options.final ? { retryable: false } : {}),
      ...(failure === "blocked" ? { reason: code } : {}),
    });
  }

  /**
   * Fetches a delivered clip. The key goes only to the API's own host, never to another one a response or a
   * redirect names: redirects are followed here, since `fetch` would carry the key's header across origins.
   */
  async #download(uri: string): Promise<Buffer> {
    const apiOrigin = new URL(this.#options.baseUrl ?? DEFAULT_BASE_URL).origin;
    const signal = AbortSignal.timeout(this.#options.requestTimeoutMs);
    try {
      let target = new URL(uri);
      for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
        const response = await fetch(target, {
          headers: target.origin === apiOrigin ? { "x-goog-api-key": this.#options.apiKey } : {},
          redirect: "manual",
          signal,
        });
        const location = response.headers.get("location");
        if (response.status >= 300 && response.status < 400 && location !== null) {
          await response.body?.cancel();
          target = new URL(location, target);
          continue;
        }
        if (!response.ok) {
          throw Object.assign(new Error(`video download answered ${String(response.status)}`), {
            status: response.status,
          });
        }
        return Buffer.from(await response.arrayBuffer());
      }
      throw new Error("video download redirected too often");
    } catch (error) {
      throw classifyGeminiError("omni", error, { timedOut: false });
    }
  }
}
