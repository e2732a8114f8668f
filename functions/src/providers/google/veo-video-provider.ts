import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GoogleGenAI } from "@google/genai";
import { lazyGeminiClient, type GeminiClientOptions } from "./google-client.ts";
import { classifyGeminiError } from "./google-error.ts";
import { ProviderError } from "../provider-error.ts";
import type { VideoGenerationRequest, VideoPoll, VideoProvider, VideoStart } from "../video-provider.ts";

/**
 * Veo 3.1 over `@google/genai` 2.x (3.x refuses `generateVideos` with an API key): `generateVideos` starts a long-running operation; a later invocation rebuilds
 * a `GenerateVideosOperation` from its saved name and polls it with `operations.getVideosOperation`; the
 * finished video is fetched with `files.download` (which honours the configured base URL). Veo reports failure
 * in `op.error`, not by throwing, and filtered output as an empty list with `raiMediaFilteredReasons`; both
 * become clean ProviderErrors.
 */
export class VeoVideoProvider implements VideoProvider {
  readonly run = "live" as const;
  readonly #client: () => Promise<GoogleGenAI>;

  constructor(options: GeminiClientOptions) {
    this.#client = lazyGeminiClient(options);
  }

  async start(request: VideoGenerationRequest): Promise<VideoStart> {
    const client = await this.#client();
    try {
      const operation = await client.models.generateVideos({
        model: request.model,
        source: {
          prompt: request.prompt,
          ...(request.image === undefined
            ? {}
            : { image: { imageBytes: request.image.data.toString("base64"), mimeType: request.image.mimeType } }),
        },
        config: {
          numberOfVideos: 1,
          ...(request.durationSeconds === undefined ? {} : { durationSeconds: request.durationSeconds }),
          ...(request.aspectRatio === undefined ? {} : { aspectRatio: request.aspectRatio }),
        },
      });
      if (operation.name === undefined || operation.name === "") {
        throw new ProviderError("veo", "unavailable", "Veo returned an operation without a name");
      }
      return { operation: operation.name };
    } catch (error) {
      throw classifyGeminiError("veo", error, { timedOut: false });
    }
  }

  async poll(operationName: string): Promise<VideoPoll> {
    const client = await this.#client();
    const { GenerateVideosOperation } = await import("@google/genai");
    let operation;
    try {
      const saved = new GenerateVideosOperation();
      saved.name = operationName;
      operation = await client.operations.getVideosOperation({ operation: saved });
    } catch (error) {
      throw classifyGeminiError("veo", error, { timedOut: false });
    }
    if (operation.done !== true) return { done: false };
    if (operation.error !== undefined) {
      const message = typeof operation.error.message === "string" ? operation.error.message : "operation failed";
      // gRPC codes 3 (INVALID_ARGUMENT) and 9 (FAILED_PRECONDITION) are about the request; others the service.
      const code = operation.error.code;
      const failure = code === 3 || code === 9 ? "rejected" : "unavailable";
      // The operation has ended: polling it again cannot change the outcome.
      throw new ProviderError("veo", failure, `Veo operation failed (${String(code)}): ${message}`, {
        retryable: false,
      });
    }
    const response = operation.response;
    const video = response?.generatedVideos?.[0]?.video;
    if (video === undefined) {
      const reasons = response?.raiMediaFilteredReasons ?? [];
      throw new ProviderError("veo", "blocked", "Veo filtered the video", {
        reason: reasons.length > 0 ? reasons.join("; ") : "FILTERED",
      });
    }
    if (video.videoBytes !== undefined && video.videoBytes !== "") {
      return {
        done: true,
        video: { mimeType: video.mimeType ?? "video/mp4", data: Buffer.from(video.videoBytes, "base64") },
      };
    }
    const directory = await mkdtemp(join(tmpdir(), "atelier-veo-"));
    try {
      const file = join(directory, "video.mp4");
      await client.files.download({ file: video, downloadPath: file });
      return { done: true, video: { mimeType: video.mimeType ?? "video/mp4", data: await readFile(file) } };
    } catch (error) {
      throw classifyGeminiError("veo", error, { timedOut: false });
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  }
}
