import { setTimeout as sleep } from "node:timers/promises";
import type { GeneratedImage, ImageGenerationRequest, ImageProvider } from "../image-provider.ts";
import { ProviderError } from "../provider-error.ts";
import { promptPicture } from "./prompt-picture.ts";

/**
 * Offline image generation (labelled `simulated`): a real PNG drawn from the prompt by sharp from an SVG
 * (different prompts look different; the same prompt gives the same picture), sized by the aspect ratio. An
 * edit comes back as a whole new picture of the input's size, mask or not, as a live model's may: keeping the
 * pixels outside the mask is the job pipeline's work, and the offline stack proves it. `simulate:blocked` and
 * `simulate:unavailable` in the prompt act out a safety block and an outage (which a worker retries);
 * `simulate:primary-down` an outage of the first model only, so the next model of the chain draws the picture.
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
    const sharp = (await import("sharp")).default;
    const size =
      request.edit === undefined ? sizeForAspectRatio(request.aspectRatio) : await sizeOf(request.edit.image.data);
    const images: GeneratedImage[] = [];
    for (let index = 0; index < request.count; index++) {
      const prompt = request.count > 1 ? `${request.prompt} (${String(index + 1)})` : request.prompt;
      const data = await sharp(Buffer.from(promptPicture(prompt, size.width, size.height)))
        .png()
        .toBuffer();
      images.push({ mimeType: "image/png", data, ...size });
    }
    return images;
  }
}

async function sizeOf(image: Buffer): Promise<{ width: number; height: number }> {
  const sharp = (await import("sharp")).default;
  const { width, height } = await sharp(image).autoOrient().metadata();
  return { width, height };
}
