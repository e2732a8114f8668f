import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { GeneratedImage, ImageGenerationRequest, ImageProvider } from "../image-provider.ts";
import { ProviderError } from "../provider-error.ts";

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

/** An SVG picture of the prompt: colours and shapes from its hash, the words themselves on a band. */
function promptPicture(prompt: string, width: number, height: number): string {
  const hash = createHash("sha256").update(prompt).digest();
  const byte = (index: number) => hash[index % hash.length] ?? 0;
  const colour = (index: number) =>
    `hsl(${String(Math.round((byte(index) / 255) * 360))}, 65%, ${String(35 + (byte(index + 1) % 30))}%)`;
  const shapes = Array.from({ length: 6 }, (_, shape) => {
    const x = (byte(4 + shape * 3) / 255) * width;
    const y = (byte(5 + shape * 3) / 255) * height;
    const radius = (0.05 + (byte(6 + shape * 3) / 255) * 0.2) * Math.min(width, height);
    return `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="${radius.toFixed(1)}" fill="${colour(20 + shape)}" fill-opacity="0.7"/>`;
  }).join("");
  const fontSize = Math.max(10, Math.round(Math.min(width, height) / 18));
  const lines = wrap(prompt, Math.max(8, Math.floor(width / (fontSize * 0.6))), 3);
  const band = fontSize * 1.4 * lines.length + fontSize;
  const text = lines
    .map(
      (line, row) =>
        `<text x="${String(fontSize)}" y="${(height - band + fontSize * 1.4 * (row + 1)).toFixed(1)}">${escapeXml(line)}</text>`,
    )
    .join("");
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${String(width)}" height="${String(height)}">` +
    `<defs><linearGradient id="sky" x1="0" y1="0" x2="1" y2="1">` +
    `<stop offset="0" stop-color="${colour(0)}"/><stop offset="1" stop-color="${colour(2)}"/></linearGradient></defs>` +
    `<rect width="100%" height="100%" fill="url(#sky)"/>${shapes}` +
    `<rect y="${(height - band).toFixed(1)}" width="100%" height="${band.toFixed(1)}" fill="black" fill-opacity="0.45"/>` +
    `<g fill="white" font-family="sans-serif" font-size="${String(fontSize)}">${text}</g></svg>`
  );
}

function wrap(text: string, width: number, maxLines: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter((part) => part !== "")) {
    const candidate = line === "" ? word : `${line} ${word}`;
    if (candidate.length <= width || line === "") line = candidate.slice(0, width);
    else {
      lines.push(line);
      line = word.slice(0, width);
    }
  }
  if (line !== "") lines.push(line);
  return lines.length > maxLines ? [...lines.slice(0, maxLines - 1), `${lines[maxLines - 1] ?? ""}…`] : lines;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (character) => `&#${String(character.charCodeAt(0))};`);
}
