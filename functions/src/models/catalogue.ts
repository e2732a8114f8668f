import type { ModelEntry, ModelSource } from "./model-entry.ts";

/**
 * Every model Atelier knows, with its lifecycle and the pages the facts come from (read on the date in `read`).
 * Models past their shutdown stay listed so that a configuration still naming one is refused with its date and
 * replacement rather than as an unknown id. The defaults are chosen in `DEFAULT_MODELS` below, with the reasons.
 *
 * To move to a new model: add its entry (with sources), point the default or the setting at it, and mark the old
 * one `deprecated` with its shutdown date once Google announces one (docs/runbook.md, "Models: upgrades, lifecycle warnings, fallback").
 */

const READ = "2026-12-02";

const GOOGLE_DEPRECATIONS: ModelSource = {
  url: "https://ai.google.dev/gemini-api/docs/deprecations",
  published: "undated",
  official: true,
};
const GOOGLE_VIDEO_DOCS: ModelSource = {
  url: "https://ai.google.dev/gemini-api/docs/video",
  published: "undated",
  official: true,
};
const changelog = (published: string): ModelSource => ({
  url: "https://ai.google.dev/gemini-api/docs/changelog",
  published,
  official: true,
});
/** The model ids Google's own SDK lists in its `Model` type, by release. */
const genaiSdk = (version: string, published: string): ModelSource => ({
  url: `https://www.npmjs.com/package/@google/genai/v/${version}`,
  published,
  official: true,
});
const thirdParty = (url: string, published: string): ModelSource => ({ url, published, official: false });

/** The aspect ratios Gemini image models have accepted since Nano Banana. */
const IMAGE_RATIOS = ["1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"] as const;
/** Nano Banana 2.1 adds the very wide and very tall ratios. */
const NANO_BANANA_21_RATIOS = [...IMAGE_RATIOS, "1:4", "4:1", "1:8", "8:1"] as const;
const VIDEO_RATIOS = ["16:9", "9:16"] as const;
const seconds = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => from + index);

const GEMINI_3_THINKING = ["minimal", "low", "medium", "high"] as const;
const GEMINI_4_THINKING = ["low", "medium", "high", "xhigh"] as const;

const retiredText = (
  id: string,
  label: string,
  shutdownDate: string,
  replacement: string,
  sources: readonly ModelSource[],
  note?: string,
): ModelEntry => ({
  id,
  label,
  kind: "text",
  provider: "gemini",
  lifecycle: "deprecated",
  shutdownDate,
  replacement,
  read: READ,
  sources,
  ...(note === undefined ? {} : { note }),
  capabilities: {
    thinkingLevels: [],
    thoughtSummaries: false,
    grounding: true,
    functionCalling: true,
    imageInput: true,
  },
});

export const MODEL_CATALOGUE: readonly ModelEntry[] = [
  // --- Text ----------------------------------------------------------------------------------------------------
  {
    id: "gemini-3.8-flash",
    label: "Gemini 3.8 Flash",
    kind: "text",
    provider: "gemini",
    lifecycle: "stable",
    released: "2026-09-02",
    read: READ,
    sources: [
      GOOGLE_DEPRECATIONS,
      {
        url: "https://docs.cloud.google.com/gemini-enterprise-agent-platform/models/guides/gemini-3-8-flash",
        published: "undated",
        official: true,
      },
    ],
    capabilities: {
      thinkingLevels: ["low", "medium", "high"],
      thoughtSummaries: true,
      grounding: true,
      functionCalling: true,
      imageInput: true,
      contextTokens: 1_048_576,
      maxOutputTokens: 65_536,
    },
  },
  {
    id: "gemini-4-hydrogen",
    label: "Gemini 4 Hydrogen",
    kind: "text",
    provider: "gemini",
    lifecycle: "stable",
    released: "2026-11-12",
    read: READ,
    sources: [
      genaiSdk("3.3.0", "2026-11-12"),
      thirdParty("https://docs.laozhang.ai/announcements/gemini-4-hydrogen-2026-11.md", "2026-11-14"),
    ],
    note: "GA date, limits and thinking levels from third parties; the id is in Google's SDK 3.3.0.",
    capabilities: {
      thinkingLevels: GEMINI_4_THINKING,
      thoughtSummaries: true,
      grounding: true,
      functionCalling: true,
      imageInput: true,
      contextTokens: 1_048_576,
    },
  },
  {
    id: "gemini-4-neon",
    label: "Gemini 4 Neon",
    kind: "text",
    provider: "gemini",
    lifecycle: "stable",
    released: "2026-11-18",
    read: READ,
    sources: [
      {
        url: "https://docs.cloud.google.com/gemini/enterprise/docs/release-notes",
        published: "2026-11-18",
        official: true,
      },
      thirdParty("https://docs.laozhang.ai/announcements/gemini-4-neon-2026-11.md", "2026-11-22"),
    ],
    note: "Google's note is for Gemini Enterprise; availability on the Gemini API rests on third parties.",
    capabilities: {
      thinkingLevels: GEMINI_4_THINKING,
      thoughtSummaries: true,
      grounding: true,
      functionCalling: true,
      imageInput: true,
      contextTokens: 1_048_576,
      maxOutputTokens: 65_536,
    },
  },
  {
    id: "gemini-4-carbon",
    label: "Gemini 4 Carbon",
    kind: "text",
    provider: "gemini",
    lifecycle: "stable",
    released: "2026-11-10",
    read: READ,
    sources: [
      genaiSdk("3.3.0", "2026-11-12"),
      thirdParty("https://github.com/BerriAI/litellm/discussions/50970", "2026-11-11"),
    ],
    note: "Paid tier only. Its thinking levels are not published: none is sent (the model's default applies).",
    capabilities: {
      thinkingLevels: [],
      thoughtSummaries: true,
      grounding: true,
      functionCalling: true,
      imageInput: true,
    },
  },
  {
    id: "gemini-4-argon",
    label: "Gemini 4 Argon",
    kind: "text",
    provider: "gemini",
    lifecycle: "stable",
    released: "2026-10-13",
    read: READ,
    sources: [
      changelog("2026-10-13"),
      {
        url: "https://docs.cloud.google.com/gemini-enterprise-agent-platform/models/start/get-started-with-gemini-4",
        published: "undated",
        official: true,
      },
    ],
    capabilities: {
      thinkingLevels: ["low", "medium", "high"],
      thoughtSummaries: true,
      grounding: true,
      functionCalling: true,
      imageInput: true,
      contextTokens: 1_048_576,
      maxOutputTokens: 65_536,
    },
  },
  {
    id: "gemini-3.6-flash",
    label: "Gemini 3.6 Flash",
    kind: "text",
    provider: "gemini",
    lifecycle: "stable",
    released: "2026-07-21",
    read: READ,
    sources: [
      changelog("2026-07-21"),
      { url: "https://ai.google.dev/gemini-api/docs/whats-new-gemini-3.6", published: "undated", official: true },
    ],
    capabilities: {
      thinkingLevels: GEMINI_3_THINKING,
      thoughtSummaries: true,
      grounding: true,
      functionCalling: true,
      imageInput: true,
      contextTokens: 1_048_576,
      maxOutputTokens: 65_536,
    },
  },
  {
    id: "gemini-3.5-flash-lite",
    label: "Gemini 3.5 Flash-Lite",
    kind: "text",
    provider: "gemini",
    lifecycle: "stable",
    released: "2026-07-21",
    read: READ,
    sources: [
      changelog("2026-07-21"),
      { url: "https://ai.google.dev/gemini-api/docs/whats-new-gemini-3.6", published: "undated", official: true },
    ],
    capabilities: {
      thinkingLevels: GEMINI_3_THINKING,
      thoughtSummaries: true,
      grounding: true,
      functionCalling: true,
      imageInput: true,
      contextTokens: 1_048_576,
      maxOutputTokens: 65_536,
    },
  },
  {
    id: "gemini-3.1-flash-lite",
    label: "Gemini 3.1 Flash-Lite",
    kind: "text",
    provider: "gemini",
    lifecycle: "deprecated",
    released: "2026-05-07",
    shutdownDate: "2027-05-07",
    replacement: "gemini-3.5-flash-lite",
    read: READ,
    sources: [GOOGLE_DEPRECATIONS],
    capabilities: {
      thinkingLevels: GEMINI_3_THINKING,
      thoughtSummaries: true,
      grounding: true,
      functionCalling: true,
      imageInput: true,
    },
  },
  {
    id: "gemini-3-flash-preview",
    label: "Gemini 3 Flash (preview)",
    kind: "text",
    provider: "gemini",
    lifecycle: "preview",
    released: "2025-12-17",
    replacement: "gemini-3.6-flash",
    read: READ,
    sources: [GOOGLE_DEPRECATIONS],
    capabilities: {
      thinkingLevels: GEMINI_3_THINKING,
      thoughtSummaries: true,
      grounding: true,
      functionCalling: true,
      imageInput: true,
    },
  },
  retiredText("gemini-3.7-flash", "Gemini 3.7 Flash", "2026-10-08", "gemini-3.8-flash", [changelog("2026-10-08")]),
  retiredText("gemini-3.5-flash", "Gemini 3.5 Flash", "2026-10-08", "gemini-3.6-flash", [changelog("2026-10-08")]),
  retiredText(
    "gemini-2.5-pro",
    "Gemini 2.5 Pro",
    "2026-12-01",
    "gemini-3.8-flash",
    [
      GOOGLE_DEPRECATIONS,
      thirdParty(
        "https://dev.to/aideprecations/what-to-do-before-gemini-25-pro-and-25-flash-are-retired-on-december-1-2026-5gg9",
        "2026-11-10",
      ),
    ],
    "Dates given range from 2026-10-16 to 2026-12-01 by channel; all are past.",
  ),
  retiredText(
    "gemini-2.5-flash",
    "Gemini 2.5 Flash",
    "2026-12-01",
    "gemini-3.5-flash-lite",
    [
      GOOGLE_DEPRECATIONS,
      thirdParty(
        "https://dev.to/aideprecations/what-to-do-before-gemini-25-pro-and-25-flash-are-retired-on-december-1-2026-5gg9",
        "2026-11-10",
      ),
    ],
    "Dates given range from 2026-10-16 to 2026-12-01 by channel; all are past.",
  ),
  retiredText(
    "gemini-2.5-flash-lite",
    "Gemini 2.5 Flash-Lite",
    "2026-10-20",
    "gemini-3.5-flash-lite",
    [
      GOOGLE_DEPRECATIONS,
      thirdParty("https://docs.apiyi.com/en/live/2026-11/gemini-2-5-series-retirement.md", "2026-11-21"),
    ],
    "Google's page gave July 2026 as the earliest shutdown; AI Studio retired it on 2026-10-20.",
  ),

  // --- Images ("Nano Banana") -------------------------------------------------------------------------------------
  {
    id: "gemini-nano-banana-2.1",
    label: "Nano Banana 2.1",
    kind: "image",
    provider: "gemini",
    lifecycle: "stable",
    released: "2026-10-06",
    read: READ,
    sources: [
      changelog("2026-10-06"),
      thirdParty("https://github.com/tanstack/ai/releases/tag/%40tanstack%2Fai-gemini%400.36.0", "2026-10-07"),
    ],
    note: "The 14 aspect ratios and the 14 input images come from third parties.",
    capabilities: {
      aspectRatios: NANO_BANANA_21_RATIOS,
      imageSizes: ["1K", "2K", "4K"],
      edit: true,
      maxInputImages: 14,
    },
  },
  {
    id: "gemini-3-pro-image",
    label: "Nano Banana Pro",
    kind: "image",
    provider: "gemini",
    lifecycle: "stable",
    released: "2026-05-28",
    read: READ,
    sources: [changelog("2026-05-28")],
    capabilities: { aspectRatios: IMAGE_RATIOS, imageSizes: ["1K", "2K", "4K"], edit: true, maxInputImages: 14 },
  },
  {
    id: "gemini-3.1-flash-lite-image",
    label: "Nano Banana 2 Lite",
    kind: "image",
    provider: "gemini",
    lifecycle: "stable",
    released: "2026-06-30",
    read: READ,
    sources: [changelog("2026-06-30")],
    capabilities: { aspectRatios: IMAGE_RATIOS, imageSizes: ["1K"], edit: true, maxInputImages: 3 },
  },
  {
    id: "gemini-3.1-flash-image",
    label: "Nano Banana 2",
    kind: "image",
    provider: "gemini",
    lifecycle: "deprecated",
    shutdownDate: "2026-10-29",
    replacement: "gemini-nano-banana-2.1",
    read: READ,
    sources: [changelog("2026-10-06"), thirdParty("https://github.com/BerriAI/litellm/discussions/44983", "2026-10")],
    note: "Google deprecated it on 2026-10-06 without a date; third parties report the shutdown on 2026-10-29.",
    capabilities: { aspectRatios: IMAGE_RATIOS, imageSizes: ["1K", "2K", "4K"], edit: true, maxInputImages: 14 },
  },
  {
    id: "gemini-2.5-flash-image",
    label: "Nano Banana",
    kind: "image",
    provider: "gemini",
    lifecycle: "deprecated",
    shutdownDate: "2026-10-02",
    replacement: "gemini-nano-banana-2.1",
    read: READ,
    sources: [GOOGLE_DEPRECATIONS],
    capabilities: { aspectRatios: IMAGE_RATIOS, imageSizes: ["1K"], edit: true, maxInputImages: 3 },
  },

  // --- Video ----------------------------------------------------------------------------------------------------
  {
    id: "gemini-omni-1.1-flash",
    label: "Gemini Omni 1.1 Flash",
    kind: "video",
    provider: "omni",
    lifecycle: "stable",
    released: "2026-08-27",
    read: READ,
    sources: [
      GOOGLE_VIDEO_DOCS,
      genaiSdk("2.32.0", "2026-10-29"),
      thirdParty("https://wavespeed.ai/blog/ai-models/gemini-omni-1-1-flash-api/", "2026-08-28"),
    ],
    note: "Google names Omni Flash its default video model; the 1.1 release date and limits come from third parties.",
    capabilities: {
      aspectRatios: VIDEO_RATIOS,
      durationsSeconds: seconds(3, 10),
      resolutions: ["360p", "720p", "1080p", "4k"],
      imageInput: true,
      conversationalEdits: true,
    },
  },
  {
    id: "gemini-omni-1.2-flash",
    label: "Gemini Omni 1.2 Flash",
    kind: "video",
    provider: "omni",
    lifecycle: "preview",
    released: "2026-11-05",
    read: READ,
    sources: [
      genaiSdk("3.3.0", "2026-11-12"),
      thirdParty("https://vercel.com/changelog/gemini-omni-1-2-flash-now-available-on-ai-gateway", "undated"),
    ],
    note: "Listed here as preview until Google's pages confirm general availability on the Gemini API.",
    capabilities: {
      aspectRatios: VIDEO_RATIOS,
      durationsSeconds: seconds(3, 15),
      resolutions: ["360p", "720p", "1080p", "4k"],
      imageInput: true,
      conversationalEdits: true,
    },
  },
  {
    id: "veo-3.1-generate-preview",
    label: "Veo 3.1",
    kind: "video",
    provider: "veo",
    lifecycle: "preview",
    read: READ,
    sources: [GOOGLE_VIDEO_DOCS],
    capabilities: {
      aspectRatios: VIDEO_RATIOS,
      durationsSeconds: [4, 6, 8],
      resolutions: ["720p", "1080p", "4k"],
      imageInput: true,
      conversationalEdits: false,
    },
  },
  {
    id: "veo-3.1-fast-generate-preview",
    label: "Veo 3.1 Fast",
    kind: "video",
    provider: "veo",
    lifecycle: "preview",
    read: READ,
    sources: [GOOGLE_VIDEO_DOCS, thirdParty("https://github.com/TanStack/ai/pull/875", "2026-07-01")],
    capabilities: {
      aspectRatios: VIDEO_RATIOS,
      durationsSeconds: [4, 6, 8],
      resolutions: ["720p", "1080p", "4k"],
      imageInput: true,
      conversationalEdits: false,
    },
  },
  {
    id: "veo-3.1-lite-generate-preview",
    label: "Veo 3.1 Lite",
    kind: "video",
    provider: "veo",
    lifecycle: "preview",
    read: READ,
    sources: [thirdParty("https://github.com/TanStack/ai/pull/875", "2026-07-01")],
    capabilities: {
      aspectRatios: VIDEO_RATIOS,
      durationsSeconds: [4, 6, 8],
      resolutions: ["720p", "1080p"],
      imageInput: true,
      conversationalEdits: false,
    },
  },
  {
    id: "gemini-omni-flash-preview",
    label: "Gemini Omni Flash (preview)",
    kind: "video",
    provider: "omni",
    lifecycle: "deprecated",
    released: "2026-06-30",
    shutdownDate: "2026-09-30",
    replacement: "gemini-omni-1.1-flash",
    read: READ,
    sources: [
      changelog("2026-06-30"),
      thirdParty("https://github.com/tanstack/ai/releases/tag/%40tanstack%2Fai-gemini%400.37.0", "2026-10-08"),
    ],
    capabilities: {
      aspectRatios: VIDEO_RATIOS,
      durationsSeconds: seconds(3, 10),
      resolutions: ["720p"],
      imageInput: true,
      conversationalEdits: true,
    },
  },
  ...(["veo-3.0-generate-001", "veo-3.0-fast-generate-001", "veo-2.0-generate-001"] as const).map((id): ModelEntry => ({
    id,
    label: id.startsWith("veo-2") ? "Veo 2" : id.includes("fast") ? "Veo 3 Fast" : "Veo 3",
    kind: "video",
    provider: "veo",
    lifecycle: "deprecated",
    shutdownDate: "2026-06-30",
    replacement: "veo-3.1-generate-preview",
    read: READ,
    sources: [changelog("2026-06-15")],
    capabilities: {
      aspectRatios: VIDEO_RATIOS,
      durationsSeconds: [4, 6, 8],
      resolutions: ["720p"],
      imageInput: true,
      conversationalEdits: false,
    },
  })),
];

/**
 * The defaults, one per kind (settings `DEFAULT_MODEL`, `NANO_BANANA_MODEL`, `VIDEO_MODEL`, `VEO_MODEL`):
 * - text: Gemini 3.8 Flash, the newest stable Flash model whose id, limits and lifecycle Google's own pages confirm
 *   (Gemini 4 Hydrogen, its named successor, rests on third-party pages and costs twice as much until 2027-01-01;
 *   it is offered in `ALLOWED_MODELS` and should be reconsidered then);
 * - image: Nano Banana 2.1, Google's current recommendation;
 * - video: Gemini Omni 1.1 Flash, which Google calls its default video model (1.2 is listed as preview);
 * - Veo: Veo 3.1, the only Veo generation left on the Gemini API.
 */
export const DEFAULT_MODELS = {
  text: "gemini-3.8-flash",
  image: "gemini-nano-banana-2.1",
  video: "gemini-omni-1.1-flash",
  veo: "veo-3.1-generate-preview",
} as const;

/**
 * What users may pick besides the defaults (`ALLOWED_MODELS`): the newest Flash, a cheap fast one, and the Pro
 * image model. Gemini 4 Argon, Neon and Carbon cost four to five times as much and are left for an operator to add.
 */
export const DEFAULT_ALLOWED_MODELS = ["gemini-4-hydrogen", "gemini-3.5-flash-lite", "gemini-3-pro-image"] as const;

/**
 * The fallback chains (`*_FALLBACK_MODELS`): for text and pictures, cheaper models than the defaults they stand
 * in for; for video another vendor, so one provider's outage does not take the feature down (Veo 3.1 Fast costs
 * more a second than Omni Flash, and a video request reserves budget for its dearest fallback).
 */
export const DEFAULT_FALLBACK_MODELS = {
  text: ["gemini-3.5-flash-lite"],
  image: ["gemini-3.1-flash-lite-image"],
  video: ["veo-3.1-fast-generate-preview"],
} as const;
