import type { ProviderRun } from "../contract/resources.ts";
import type { ImageData } from "./image-provider.ts";

export interface VideoGenerationRequest {
  readonly model: string;
  readonly prompt: string;
  readonly aspectRatio?: string;
  readonly durationSeconds?: number;
  /** Image-to-video: the first frame. */
  readonly image?: ImageData;
  /** Continue an earlier generation of this provider (an edit: "now at night"): its `interactionId`. */
  readonly continueFrom?: string;
  /** Set when this call is a fallback: the model the job asked for first. */
  readonly fallbackFrom?: string;
}

/** A started generation: the name to poll it by, and for providers that keep a conversation, its id. */
export interface VideoStart {
  readonly operation: string;
  /** Omni: the interaction a later request can continue (`previous_interaction_id`). */
  readonly interactionId?: string;
}

export type VideoPoll =
  | { readonly done: false; readonly progress?: number }
  | { readonly done: true; readonly video: { readonly mimeType: string; readonly data: Buffer } };

/**
 * The video port: a long-running generation (Veo's operation, Omni's background interaction), started once and
 * polled from later invocations by its name, so no worker sleeps through it. Failures (including a failed
 * operation and filtered output) are thrown as ProviderErrors.
 */
export interface VideoProvider {
  readonly run: ProviderRun;
  start(request: VideoGenerationRequest): Promise<VideoStart>;
  poll(operation: string): Promise<VideoPoll>;
}
