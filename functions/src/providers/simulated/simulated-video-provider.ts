import { encodeMp4 } from "../../media/mp4-video.ts";
import { SIMULATED_VIDEO_DEFAULTS, simulatedVideoFrames } from "../../media/simulated-video-frames.ts";
import { ProviderError } from "../provider-error.ts";
import type { VideoGenerationRequest, VideoPoll, VideoProvider } from "../video-provider.ts";

/**
 * Offline video generation (labelled `simulated`): a real, playable H.264 MP4 animation drawn from the prompt.
 * Like Veo it is a long-running operation: `start` returns an operation name and `poll` reports it done once
 * `delayMs` has passed. The name carries the whole request, so a poll from another process or instance (as the
 * task-queue workers do) needs no shared memory. `simulate:blocked` is filtered like a Veo safety filter;
 * `simulate:unavailable` fails the start like an outage.
 */

interface SimulatedOperation {
  readonly prompt: string;
  readonly aspectRatio: string | undefined;
  readonly startedAt: number;
}

const PREFIX = "simulated-operations/";

export class SimulatedVideoProvider implements VideoProvider {
  readonly run = "simulated" as const;
  readonly #delayMs: number;
  readonly #now: () => number;

  constructor(options: { delayMs: number; now?: () => number }) {
    this.#delayMs = options.delayMs;
    this.#now = options.now ?? Date.now;
  }

  start(request: VideoGenerationRequest): Promise<string> {
    if (request.prompt.includes("simulate:unavailable")) {
      return Promise.reject(new ProviderError("veo", "unavailable", "Simulated outage", { status: 503 }));
    }
    const operation: SimulatedOperation = {
      prompt: request.prompt,
      aspectRatio: request.aspectRatio,
      startedAt: this.#now(),
    };
    return Promise.resolve(`${PREFIX}${Buffer.from(JSON.stringify(operation)).toString("base64url")}`);
  }

  poll(operationName: string): Promise<VideoPoll> {
    if (!operationName.startsWith(PREFIX)) {
      return Promise.reject(new ProviderError("veo", "rejected", "Not a simulated operation"));
    }
    const operation = JSON.parse(
      Buffer.from(operationName.slice(PREFIX.length), "base64url").toString("utf8"),
    ) as SimulatedOperation;
    const elapsed = this.#now() - operation.startedAt;
    if (elapsed < this.#delayMs) return Promise.resolve({ done: false, progress: elapsed / this.#delayMs });
    if (operation.prompt.includes("simulate:blocked")) {
      return Promise.reject(
        new ProviderError("veo", "blocked", "Simulated filter", { reason: "Simulated safety filter." }),
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
