import type { JobKind } from "../contract/resources.ts";
import type { ModelEntry } from "../models/model-entry.ts";
import type { Pricing } from "../models/pricing.ts";
import { TOKENS_PER_IMAGE, tokensAbout, tokensAtMost } from "../models/token-estimates.ts";
import type { UsageRecord } from "../store/usage-ledger.ts";

/**
 * What a media job may cost before it runs (its reservation) and what it did cost (its receipt).
 *
 * Pictures are priced per picture at the size Atelier asks for (the models' default, 1K) plus the prompt's
 * tokens at the model's input rate; videos per second at the resolution it asks for (the models' default,
 * 720p). The reservation takes the dearest model of the job's fallback chain and, for a video that names no
 * length, the longest the model makes.
 */

/** The picture size and video resolution Atelier's requests get (neither is sent: they are the defaults). */
export const IMAGE_SIZE = "1K";
export const VIDEO_RESOLUTION = "720p";

interface JobAsk {
  readonly kind: JobKind;
  readonly prompt: string;
  /** Pictures asked for (image jobs). */
  readonly count: number;
  /** Seconds asked for (videos), if the request named a length. */
  readonly seconds?: number;
  /** Pictures sent to the model (the picture to edit, a first frame). */
  readonly inputImages: number;
}

/** The prompt's and input pictures' tokens: at most (a reservation) or about (a receipt). */
function inputTokens(ask: JobAsk, tokensOf: (characters: number) => number): number {
  return tokensOf(ask.prompt.length) + ask.inputImages * TOKENS_PER_IMAGE;
}

function secondsOf(entry: ModelEntry, ask: JobAsk): number {
  if (ask.seconds !== undefined) return ask.seconds;
  return entry.kind === "video" ? Math.max(1, ...entry.capabilities.durationsSeconds) : 0;
}

/** One model's price for the job, with `tokens` of input. */
function costWith(pricing: Pricing, entry: ModelEntry, ask: JobAsk, tokens: number, seconds: number, at: Date) {
  if (ask.kind === "video") return pricing.video(entry.id, seconds, VIDEO_RESOLUTION, at);
  return (
    pricing.images(entry.id, ask.count, IMAGE_SIZE, at) +
    pricing.text(entry.id, { inputTokens: tokens, outputTokens: 0 }, at)
  );
}

/** The most the job can cost on any model of its chain. */
export function jobReservation(pricing: Pricing, chain: readonly ModelEntry[], ask: JobAsk, at: Date): number {
  const tokens = inputTokens(ask, tokensAtMost);
  return Math.max(0, ...chain.map((entry) => costWith(pricing, entry, ask, tokens, secondsOf(entry, ask), at)));
}

/**
 * A finished job's receipt on the model that made it: `made` pictures, or a video of `seconds` (the length
 * asked for, else the file's, rounded up: providers bill whole seconds).
 */
export function jobReceipt(
  pricing: Pricing,
  entry: ModelEntry,
  ask: JobAsk,
  made: { readonly images?: number; readonly videoSeconds?: number },
  at: Date,
): UsageRecord {
  const tokens = ask.kind === "video" ? 0 : inputTokens(ask, tokensAbout);
  // Never more than was reserved: the asked length, else at most the longest the model makes.
  const seconds = ask.seconds ?? Math.min(Math.ceil(made.videoSeconds ?? secondsOf(entry, ask)), secondsOf(entry, ask));
  const cost =
    ask.kind === "video"
      ? pricing.video(entry.id, seconds, VIDEO_RESOLUTION, at)
      : costWith(pricing, entry, { ...ask, count: made.images ?? 0 }, tokens, 0, at);
  return {
    input_tokens: tokens,
    output_tokens: 0,
    ...(ask.kind === "video" ? { video_seconds: seconds } : { images: made.images ?? 0 }),
    cost_micros: cost,
  };
}

/** What a job asks, from its `input` fields (as submitted, or as stored on the job). */
export function jobAsk(
  kind: JobKind,
  prompt: string,
  input: Readonly<Record<string, unknown>>,
  inputImages: number,
): JobAsk {
  const count = input.count;
  const seconds = input.duration_seconds;
  return {
    kind,
    prompt,
    count: typeof count === "number" ? count : 1,
    ...(typeof seconds === "number" ? { seconds } : {}),
    inputImages,
  };
}
