import { setTimeout as sleep } from "node:timers/promises";
import { applyMaskedEdit, createCanvas, renderPromptImage } from "../../media/canvas.ts";
import { decodePng, encodePng } from "../../media/png.ts";
import { inspectImage } from "../../media/image-inspection.ts";
import type { RgbaImage } from "../../media/rgba-image.ts";
import type { GeneratedImage, ImageGenerationRequest, ImageProvider } from "../image-provider.ts";
import { ProviderError } from "../provider-error.ts";

/**
 * Offline image generation (labelled `simulated`): a real PNG drawn from the prompt (different prompts look
 * different; the same prompt gives the same picture), sized by the aspect ratio. Edits keep every pixel outside
 * the mask and redraw the inside from the prompt. PNG inputs are edited pixel for pixel; JPEG and WebP inputs
 * cannot be decoded without a codec here, so their edit is drawn on a neutral canvas of the same size, masked
 * the same way. `simulate:blocked` and `simulate:unavailable` in the prompt act out a safety block and an
 * outage (which a worker retries); `simulate:primary-down` an outage of the first model only, so the next model
 * of the chain draws the picture.
 */

const LONG_SIDE = 640;

/** Pixel size for an aspect ratio like "16:9", long side 640, both sides multiples of 8. */
function sizeForAspectRatio(aspectRatio: string | undefined): { width: number; height: number } {
  const [across, down] = (aspectRatio ?? "1:1").split(":").map(Number);
  const ratio = across !== undefined && down !== undefined && across > 0 && down > 0 ? across / down : 1;
  const round = (value: number) => Math.max(8, Math.round(value / 8) * 8);
  return ratio >= 1
    ? { width: LONG_SIDE, height: round(LONG_SIDE / ratio) }
    : { width: round(LONG_SIDE * ratio), height: LONG_SIDE };
}

function decodeOrBlank(data: Buffer, width: number, height: number): RgbaImage {
  try {
    return decodePng(data);
  } catch {
    return createCanvas(width, height, { r: 128, g: 128, b: 128, a: 255 });
  }
}

export class SimulatedImageProvider implements ImageProvider {
  readonly run = "simulated" as const;
  readonly #delayMs: number;

  constructor(options: { delayMs: number }) {
    this.#delayMs = options.delayMs;
  }

  async generate(request: ImageGenerationRequest): Promise<GeneratedImage[]> {
    if (request.prompt.includes("simulate:blocked")) {
      throw new ProviderError("nano_banana", "blocked", "Simulated safety block", { reason: "IMAGE_SAFETY" });
    }
    const outage = request.prompt.includes("simulate:unavailable");
    if (outage || (request.prompt.includes("simulate:primary-down") && request.fallbackFrom === undefined)) {
      throw new ProviderError("nano_banana", "unavailable", "Simulated outage", { status: 503 });
    }
    await sleep(this.#delayMs);
    const images: GeneratedImage[] = [];
    for (let index = 0; index < request.count; index++) {
      const prompt = request.count > 1 ? `${request.prompt} (${String(index + 1)})` : request.prompt;
      let picture: RgbaImage;
      if (request.edit === undefined) {
        const { width, height } = sizeForAspectRatio(request.aspectRatio);
        picture = renderPromptImage(prompt, width, height);
      } else {
        const info = inspectImage(request.edit.image.data);
        const width = info?.width ?? LONG_SIDE;
        const height = info?.height ?? LONG_SIDE;
        const original = decodeOrBlank(request.edit.image.data, width, height);
        const mask =
          request.edit.mask === undefined
            ? createCanvas(original.width, original.height, { r: 255, g: 255, b: 255, a: 255 })
            : decodeOrBlank(request.edit.mask.data, original.width, original.height);
        picture = applyMaskedEdit(original, mask, prompt);
      }
      images.push({ mimeType: "image/png", data: encodePng(picture), width: picture.width, height: picture.height });
    }
    return images;
  }
}
