import { encodeMp4 } from "../../media/mp4-video.ts";
import { SIMULATED_VIDEO_DEFAULTS, simulatedVideoFrames } from "../../media/simulated-video-frames.ts";
import { ProviderError } from "../provider-error.ts";
import type { VideoGenerationRequest, VideoPoll, VideoProvider, VideoStart } from "../video-provider.ts";

/**
 * Offline video generation (labelled `simulated`): a real, playable H.264 MP4 animation drawn from the prompt.
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
      startedAt: this.#now(),
    };
    const name = `${PREFIX}${Buffer.from(JSON.stringify(operation)).toString("base64url")}`;
    return Promise.resolve({ operation: name, ...(this.#vendor === "omni" ? { interactionId: name } : {}) });
  }

  poll(operationName: string): Promise<VideoPoll> {
    if (!operationName.startsWith(PREFIX)) {
      return Promise.reject(new ProviderError(this.#vendor, "rejected", "Not a simulated operation"));
    }
    const operation = JSON.parse(
      Buffer.from(operationName.slice(PREFIX.length), "base64url").toString("utf8"),
    ) as SimulatedOperation;
    const elapsed = this.#now() - operation.startedAt;
    if (elapsed < this.#delayMs) return Promise.resolve({ done: false, progress: elapsed / this.#delayMs });
    if (operation.prompt.includes("simulate:blocked")) {
      return Promise.reject(
        new ProviderError(this.#vendor, "blocked", "Simulated filter", { reason: "Simulated safety filter." }),
      );
    }
    const { width, height, seconds, framesPerSecond } = SIMULATED_VIDEO_DEFAULTS;
    const portrait = operation.aspectRatio === "9:16";
    const frames = simulatedVideoFrames(
      operation.prompt,
      portrait ? height : width,
      portrait ? width : height,
      seconds,
      framesPerSecond,
    );
    return Promise.resolve({ done: true, video: { mimeType: "video/mp4", data: encodeMp4(frames) } });
  }
}
