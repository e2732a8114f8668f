import type { ProviderRun } from "../store/records.ts";
import type { ImageData } from "./image-provider.ts";

export interface VideoGenerationRequest {
  readonly model: string;
  readonly prompt: string;
  readonly aspectRatio?: string;
  readonly durationSeconds?: number;
  /** Image-to-video: the first frame. */
  readonly image?: ImageData;
}

export type VideoPoll =
  | { readonly done: false; readonly progress?: number }
  | { readonly done: true; readonly video: { readonly mimeType: string; readonly data: Buffer } };

/**
 * The video port: a long-running operation, started once and polled from later invocations by its name, so no
 * worker sleeps through it. Failures (including `op.error` and filtered output) are thrown as ProviderErrors
 * (provider `veo`).
 */
export interface VideoProvider {
  readonly run: ProviderRun;
  start(request: VideoGenerationRequest): Promise<string>;
  poll(operationName: string): Promise<VideoPoll>;
}
