import { ProviderError } from "../provider-error.ts";
import type { VideoGenerationRequest, VideoPoll, VideoProvider, VideoStart } from "../video-provider.ts";

/** A clip's length when the request names none: one both video vendors offer. */
const DEFAULT_SECONDS = 4;

/**
 * Offline video generation (labelled `simulated`): a real, playable H.264 MP4 of the prompt, as long as asked
 * (rendered by sharp, encoded by ffmpeg: `simulated-clip.ts`, loaded only when a clip is made).
 * Like Veo it is a long-running operation: `start` returns an operation name and `poll` reports it done once
 * `delayMs` has passed. The name carries the whole request, so a poll from another process or instance (as the
 * task-queue workers do) needs no shared memory. `simulate:blocked` is filtered like a Veo safety filter;
 * `simulate:unavailable` fails the start like an outage; `simulate:primary-down` fails the start unless this is
 * a fallback, so the next model of the chain makes the clip. One instance stands in for each video vendor: the
 * Omni one also answers with an interaction id, as Omni does.
 */

interface SimulatedOperation {
  readonly model: string;
  readonly prompt: string;
  readonly aspectRatio: string | undefined;
  readonly durationSeconds?: number;
  readonly startedAt: number;
}

const PREFIX = "simulated-operations/";

export class SimulatedVideoProvider implements VideoProvider {
  readonly run = "simulated" as const;
  readonly #delayMs: number;
  readonly #now: () => number;
  readonly #vendor: "veo" | "omni";

  constructor(options: { delayMs: number; now?: () => number; vendor?: "veo" | "omni" }) {
    this.#delayMs = options.delayMs;
    this.#now = options.now ?? Date.now;
    this.#vendor = options.vendor ?? "veo";
  }

  start(request: VideoGenerationRequest): Promise<VideoStart> {
    const outage = request.prompt.includes("simulate:unavailable");
    if (outage || (request.prompt.includes("simulate:primary-down") && request.fallbackFrom === undefined)) {
      return Promise.reject(new ProviderError(this.#vendor, "unavailable", "Simulated outage", { status: 503 }));
    }
    const operation: SimulatedOperation = {
      model: request.model,
      prompt: request.prompt,
      aspectRatio: request.aspectRatio,
      ...(request.durationSeconds === undefined ? {} : { durationSeconds: request.durationSeconds }),
      startedAt: this.#now(),
    };
    const name = `${PREFIX}${Buffer.from(JSON.stringify(operation)).toString("base64url")}`;
    return Promise.resolve({ operation: name, ...(this.#vendor === "omni" ? { interactionId: name } : {}) });
  }

  async poll(operationName: string): Promise<VideoPoll> {
    if (!operationName.startsWith(PREFIX)) {
      throw new ProviderError(this.#vendor, "rejected", "Not a simulated operation");
    }
    const operation = JSON.parse(
      Buffer.from(operationName.slice(PREFIX.length), "base64url").toString("utf8"),
    ) as SimulatedOperation;
    const elapsed = this.#now() - operation.startedAt;
    if (elapsed < this.#delayMs) return { done: false, progress: elapsed / this.#delayMs };
    if (operation.prompt.includes("simulate:blocked")) {
      throw new ProviderError(this.#vendor, "blocked", "Simulated filter", { reason: "Simulated safety filter." });
    }
    const portrait = operation.aspectRatio === "9:16";
    const { simulatedClip } = await import("./simulated-clip.ts");
    const data = await simulatedClip(
      operation.prompt,
      portrait ? 180 : 320,
      portrait ? 320 : 180,
      operation.durationSeconds ?? DEFAULT_SECONDS,
    );
    return { done: true, video: { mimeType: "video/mp4", data } };
  }
}
