import type { GenerateContentResponse, GoogleGenAI, Part } from "@google/genai";
import { lazyGeminiClient, type GeminiClientOptions } from "./google-client.ts";
import { classifyGeminiError } from "./google-error.ts";
import type { GeneratedImage, ImageGenerationRequest, ImageProvider } from "../image-provider.ts";
import { ProviderError } from "../provider-error.ts";

/**
 * Nano Banana (Gemini's image model) over `@google/genai` 2.x `generateContent` with `responseModalities`
 * IMAGE. The model has no mask parameter: an edit sends the image and the mask as parts with an instruction
 * that says what the mask means. It returns one image per call, so `count` images are `count` calls.
 */

const BLOCKING_FINISH_REASONS = new Set([
  "SAFETY",
  "PROHIBITED_CONTENT",
  "BLOCKLIST",
  "SPII",
  "RECITATION",
  "IMAGE_SAFETY",
  "IMAGE_PROHIBITED_CONTENT",
  "IMAGE_RECITATION",
  "IMAGE_OTHER",
]);

function editInstruction(prompt: string, hasMask: boolean): string {
  return hasMask
    ? `Edit the first image. The second image is a mask: change only the areas that are white in the mask and ` +
        `keep everything in the black areas exactly as it is. Keep the same size and framing. Edit: ${prompt}`
    : `Edit this image, keeping its size and framing. Edit: ${prompt}`;
}

function imagesOf(response: GenerateContentResponse): GeneratedImage[] {
  const blockReason = response.promptFeedback?.blockReason;
  if (blockReason !== undefined) {
    throw new ProviderError("nano_banana", "blocked", "Prompt blocked", { reason: blockReason });
  }
  const candidate = response.candidates?.[0];
  const finishReason = candidate?.finishReason;
  if (finishReason !== undefined && BLOCKING_FINISH_REASONS.has(finishReason)) {
    throw new ProviderError("nano_banana", "blocked", "Image blocked", { reason: finishReason });
  }
  const parts: Part[] = candidate?.content?.parts ?? [];
  const images: GeneratedImage[] = [];
  for (const part of parts) {
    const data = part.inlineData?.data;
    if (data !== undefined && data !== "") {
      images.push({ mimeType: part.inlineData?.mimeType ?? "image/png", data: Buffer.from(data, "base64") });
    }
  }
  if (images.length === 0) {
    // The model answered in words only (it declined, or could not draw this): nothing to retry.
    throw new ProviderError("nano_banana", "blocked", "The model returned no image", {
      reason: finishReason ?? "NO_IMAGE",
    });
  }
  return images;
}

export class NanoBananaImageProvider implements ImageProvider {
  readonly run = "live" as const;
  readonly #client: () => Promise<GoogleGenAI>;

  constructor(options: GeminiClientOptions) {
    this.#client = lazyGeminiClient(options);
  }

  async generate(request: ImageGenerationRequest): Promise<GeneratedImage[]> {
    const client = await this.#client();
    const parts = [
      {
        text:
          request.edit === undefined
            ? request.prompt
            : editInstruction(request.prompt, request.edit.mask !== undefined),
      },
      ...(request.edit === undefined
        ? []
        : [request.edit.image, ...(request.edit.mask === undefined ? [] : [request.edit.mask])].map((image) => ({
            inlineData: { mimeType: image.mimeType, data: image.data.toString("base64") },
          }))),
    ];
    const generateOne = async (): Promise<GeneratedImage[]> => {
      try {
        const response = await client.models.generateContent({
          model: request.model,
          contents: [{ role: "user", parts }],
          config: {
            responseModalities: ["TEXT", "IMAGE"],
            ...(request.aspectRatio === undefined ? {} : { imageConfig: { aspectRatio: request.aspectRatio } }),
          },
        });
        return imagesOf(response);
      } catch (error) {
        throw classifyGeminiError("nano_banana", error, { timedOut: false });
      }
    };
    const batches = await Promise.all(Array.from({ length: request.count }, generateOne));
    return batches.flat().slice(0, request.count);
  }
}
