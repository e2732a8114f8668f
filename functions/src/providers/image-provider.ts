import type { ProviderRun } from "../contract/resources.ts";

export interface ImageData {
  readonly mimeType: string;
  readonly data: Buffer;
}

export interface ImageGenerationRequest {
  readonly model: string;
  readonly prompt: string;
  readonly aspectRatio?: string;
  /** How many images (1-4). */
  readonly count: number;
  /** Inpainting: the image to edit and, optionally, a mask (white = the region to change). */
  readonly edit?: { readonly image: ImageData; readonly mask?: ImageData };
  /** Set when this call is a fallback: the model the job asked for first. */
  readonly fallbackFrom?: string;
}

export interface GeneratedImage extends ImageData {
  readonly width?: number;
  readonly height?: number;
}

/** The image port. Throws a `ProviderError` (provider `nano_banana`) on failure. */
export interface ImageProvider {
  readonly run: ProviderRun;
  generate(request: ImageGenerationRequest): Promise<GeneratedImage[]>;
}
