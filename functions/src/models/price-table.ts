import { z } from "zod";

/**
 * What each model and the search service cost, in US dollars, with the page every price was read from. Money is
 * computed from these in integer micro-dollars (see `pricing.ts`). A price may hold only for a span of dates
 * (`from` inclusive, `until` exclusive, ISO dates in UTC): a request is priced by the entry in force when it
 * started. An operator replaces or adds entries with `PRICES_FILE` (same shape, checked at start-up).
 *
 * Upkeep (docs/runbook.md, "Prices"): when a provider changes a price, add an entry with `from` set to the day
 * it takes effect and close the old one with `until`; never edit a price in place, so receipts stay explicable.
 */

const usd = z.number().min(0).max(1_000);
const isoDate = z.iso.date();

export const priceSourceSchema = z.object({
  url: z.string().min(1),
  /** When the page was read (ISO date). */
  read: isoDate,
  /** False for third-party pages (resellers, SDK notes, transcriptions of the official page). */
  official: z.boolean(),
  /** What the page does not say and how the price was chosen anyway. */
  note: z.string().optional(),
});

const window = { from: isoDate.optional(), until: isoDate.optional() };

export const modelPriceSchema = z
  .object({
    model: z.string().min(1),
    ...window,
    /** Per million tokens. Thinking tokens are billed as output; cached input tokens at `cached_input`. */
    text: z.object({ input: usd, output: usd, cached_input: usd.optional() }).strict().optional(),
    /** Per generated image, by `imageSize` (`1K`, `2K`, `4K`). */
    image: z.record(z.string().min(1), usd).optional(),
    /** Per second of generated video, by resolution (`720p`, `1080p`, `4k`). */
    video: z.record(z.string().min(1), usd).optional(),
    source: priceSourceSchema,
  })
  .strict();

export const searchPriceSchema = z
  .object({
    service: z.literal("tavily"),
    ...window,
    /** Per credit. */
    credit: usd,
    /** Credits one query costs, by search depth. */
    credits: z.object({ basic: z.number().int().min(0).max(100), advanced: z.number().int().min(0).max(100) }),
    source: priceSourceSchema,
  })
  .strict();

export type ModelPrice = z.output<typeof modelPriceSchema>;
export type SearchPrice = z.output<typeof searchPriceSchema>;
export type PriceSource = z.output<typeof priceSourceSchema>;

export interface PriceTable {
  readonly models: readonly ModelPrice[];
  readonly search: readonly SearchPrice[];
}

const READ = "2026-12-02";
/** Google's pricing page is not reachable from here; a transcription of it (2026-10-07) carries its figures. */
const GOOGLE_PRICING: PriceSource = {
  url: "https://ai.google.dev/gemini-api/docs/pricing (as transcribed 2026-10-07 by github.com/api-evangelist/deepmind, plans/deepmind-plans-pricing.yml)",
  read: READ,
  official: false,
};
const thirdParty = (url: string, note?: string): PriceSource => ({
  url,
  read: READ,
  official: false,
  ...(note === undefined ? {} : { note }),
});
const LITELLM_38_CACHED = thirdParty("https://github.com/BerriAI/litellm/discussions/39357");
const GEMINI_4 = thirdParty("https://github.com/BerriAI/litellm/discussions/46238");
const NANO_BANANA_21 = thirdParty(
  "https://github.com/BerriAI/litellm/discussions/44983",
  "Image output $30 per million tokens: about $0.034 for a 1K and $0.113 for a 4K picture. 2K is not published and is priced as 4K, so a reservation never falls short.",
);

export const BUILT_IN_PRICES: PriceTable = {
  models: [
    // --- Text --------------------------------------------------------------------------------------------------
    {
      model: "gemini-3.8-flash",
      until: "2027-01-01",
      text: { input: 0.75, output: 3.75, cached_input: 0.075 },
      source: { ...GOOGLE_PRICING, note: "Launch price until 2026-12-31. Cached input from a third party (LiteLLM)." },
    },
    {
      model: "gemini-3.8-flash",
      from: "2027-01-01",
      text: { input: 1.5, output: 7.5, cached_input: 0.15 },
      source: { ...GOOGLE_PRICING, note: "Cached input not yet published for 2027; taken as a tenth of input." },
    },
    { model: "gemini-3.5-flash-lite", text: { input: 0.3, output: 2.5, cached_input: 0.03 }, source: GOOGLE_PRICING },
    {
      model: "gemini-3.6-flash",
      text: { input: 1.5, output: 7.5, cached_input: 0.15 },
      source: LITELLM_38_CACHED,
    },
    {
      model: "gemini-3.1-flash-lite",
      text: { input: 0.25, output: 1.5, cached_input: 0.025 },
      source: LITELLM_38_CACHED,
    },
    {
      model: "gemini-3-flash-preview",
      text: { input: 0.5, output: 3, cached_input: 0.05 },
      source: thirdParty(
        "https://muapi.ai/playground/gemini-3-flash",
        "Quotes Google's own price for Gemini 3 Flash: $0.50 in, $3.00 out. Cached input taken as a tenth of input.",
      ),
    },
    { model: "gemini-4-hydrogen", text: { input: 1.5, output: 7.5, cached_input: 0.075 }, source: GEMINI_4 },
    { model: "gemini-4-neon", text: { input: 3, output: 15, cached_input: 0.15 }, source: GEMINI_4 },
    {
      model: "gemini-4-argon",
      from: "2026-12-01",
      text: { input: 4, output: 20, cached_input: 0.2 },
      source: { ...GEMINI_4, note: "Launch price was $2 / $10; raised on 2026-12-01." },
    },
    {
      model: "gemini-4-carbon",
      from: "2026-12-01",
      text: { input: 4, output: 20, cached_input: 0.2 },
      source: GEMINI_4,
    },
    // --- Images ------------------------------------------------------------------------------------------------
    {
      model: "gemini-nano-banana-2.1",
      text: { input: 1.5, output: 0 },
      image: { "1K": 0.0336, "2K": 0.113, "4K": 0.113 },
      source: NANO_BANANA_21,
    },
    {
      model: "gemini-3-pro-image",
      text: { input: 2, output: 0 },
      image: { "1K": 0.134, "2K": 0.134, "4K": 0.24 },
      source: { ...GOOGLE_PRICING, note: "Text input price from the same page's Gemini 3 Pro row." },
    },
    {
      model: "gemini-3.1-flash-lite-image",
      text: { input: 0.25, output: 0 },
      image: { "1K": 0.0336 },
      source: thirdParty(
        "https://github.com/BerriAI/litellm/discussions/44983",
        "Not published; priced as Nano Banana 2.1 at 1K, the model it stands in for as a fallback.",
      ),
    },
    {
      model: "gemini-3.1-flash-image",
      text: { input: 0.5, output: 0 },
      image: { "1K": 0.067, "2K": 0.101, "4K": 0.151 },
      source: thirdParty("https://github.com/BerriAI/litellm/discussions/44983", "Retired; old receipts only."),
    },
    {
      model: "gemini-2.5-flash-image",
      text: { input: 0.3, output: 0 },
      image: { "1K": 0.039 },
      source: { ...GOOGLE_PRICING, note: "Retired; old receipts only." },
    },
    // --- Video -------------------------------------------------------------------------------------------------
    {
      model: "veo-3.1-generate-preview",
      video: { "720p": 0.4, "1080p": 0.4, "4k": 0.6 },
      source: { ...GOOGLE_PRICING, note: "Veo 3.1 Standard with audio (Atelier always asks for audio)." },
    },
    {
      model: "veo-3.1-fast-generate-preview",
      video: { "720p": 0.15, "1080p": 0.15, "4k": 0.6 },
      source: thirdParty(
        "https://www.runflow.io/api/models/google/veo3.1/fast/llms.txt",
        "$0.15 a second with audio (a reseller's pass-through price, 2026-04-06). 4K is not published; priced as Standard's 4K, an upper bound.",
      ),
    },
    {
      model: "veo-3.1-lite-generate-preview",
      video: { "720p": 0.05, "1080p": 0.08 },
      source: thirdParty("https://github.com/TanStack/ai/pull/875"),
    },
    {
      model: "gemini-omni-1.1-flash",
      video: { "360p": 0.1, "720p": 0.1, "1080p": 0.4, "4k": 0.6 },
      source: thirdParty(
        "https://apidog.com/blog/how-to-use-gemini-omni-1-1-flash-api/",
        "About $0.10 per second at 720p (5,792 output tokens a second at $17.50 per million). 1080p and 4K are not published; priced as Veo 3.1 Standard, an upper bound.",
      ),
    },
    {
      model: "gemini-omni-1.2-flash",
      video: { "360p": 0.1, "720p": 0.1, "1080p": 0.4, "4k": 0.6 },
      source: thirdParty(
        "https://docs.laozhang.ai/en/announcements/gemini-omni-1-2-flash-2026-11.md",
        "Not published; priced as Omni 1.1 Flash.",
      ),
    },
    {
      model: "gemini-omni-flash-preview",
      video: { "720p": 0.1 },
      source: thirdParty("https://www.skills.sh/calesthio/openmontage/gemini-omni", "Retired; old receipts only."),
    },
  ],
  search: [
    {
      service: "tavily",
      credit: 0.008,
      credits: { basic: 1, advanced: 2 },
      source: {
        url: "https://docs.tavily.com/documentation/api-credits",
        read: READ,
        official: true,
        note: "Pay-as-you-go price; plans cost $0.0075 to $0.005 a credit.",
      },
    },
  ],
};
