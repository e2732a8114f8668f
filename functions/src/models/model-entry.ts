import type { ThinkingLevel } from "../providers/text-provider.ts";

/**
 * The shape of one model in the catalogue. Everything a request, a start-up check or `GET /models` needs to know
 * about a model lives in its entry, with the public pages the facts were read from, so that moving to a new
 * model is an edit of data, not of code.
 */

export type ModelKind = "text" | "image" | "video";

/**
 * Which adapter talks to a model: Gemini's `generateContent` (text and images), Veo's long-running operations,
 * Gemini Omni through the Interactions API, or any server speaking OpenAI's Chat Completions.
 */
export type ModelProvider = "gemini" | "veo" | "omni" | "openai-compatible";

/**
 * `stable`: generally available with no shutdown announced. `preview`: may change or go without much notice.
 * `deprecated`: still answers until `shutdownDate`; from that day on, requests fail or are silently re-routed to
 * another model (and billed as it), so a configuration naming it is refused at start-up.
 */
type ModelLifecycle = "stable" | "preview" | "deprecated";

export interface ModelSource {
  readonly url: string;
  /** The date the page shows (a changelog entry, a release), or `undated`. */
  readonly published: string;
  /** False for third-party pages: resellers, SDK release notes, blogs. */
  readonly official: boolean;
}

interface TextCapabilities {
  /** The levels the model accepts; empty when it does not think (or we do not know). */
  readonly thinkingLevels: readonly ThinkingLevel[];
  /** Streams thought summaries when asked (`includeThoughts`). */
  readonly thoughtSummaries: boolean;
  /** Google Search grounding on the provider's side (ours is Tavily, which works with any model). */
  readonly grounding: boolean;
  readonly functionCalling: boolean;
  readonly imageInput: boolean;
  readonly contextTokens?: number;
  readonly maxOutputTokens?: number;
}

interface ImageCapabilities {
  readonly aspectRatios: readonly string[];
  /** `imageConfig.imageSize` values. */
  readonly imageSizes: readonly string[];
  /** Takes an input image and a described change (there is no mask parameter: see the job pipeline). */
  readonly edit: boolean;
  readonly maxInputImages: number;
}

interface VideoCapabilities {
  readonly aspectRatios: readonly string[];
  readonly durationsSeconds: readonly number[];
  readonly resolutions: readonly string[];
  /** Image-to-video: a first frame. */
  readonly imageInput: boolean;
  /** A later request can continue this generation ("make it night"): Omni's `previous_interaction_id`. */
  readonly conversationalEdits: boolean;
}

interface ModelFacts {
  readonly id: string;
  readonly label: string;
  readonly provider: ModelProvider;
  readonly lifecycle: ModelLifecycle;
  /** ISO date of general availability (or of the preview's release). */
  readonly released?: string;
  /** ISO date from which the id stops answering as itself. Set for every `deprecated` model. */
  readonly shutdownDate?: string;
  /** The model to move to, for warnings and the start-up error. */
  readonly replacement?: string;
  /** When these facts were read (ISO date). */
  readonly read: string;
  readonly sources: readonly ModelSource[];
  /** What the sources disagree on, or what could not be confirmed. */
  readonly note?: string;
}

export interface TextModelEntry extends ModelFacts {
  readonly kind: "text";
  readonly capabilities: TextCapabilities;
}

interface ImageModelEntry extends ModelFacts {
  readonly kind: "image";
  readonly capabilities: ImageCapabilities;
}

interface VideoModelEntry extends ModelFacts {
  readonly kind: "video";
  readonly capabilities: VideoCapabilities;
}

export type ModelEntry = TextModelEntry | ImageModelEntry | VideoModelEntry;

/** The entry type for a kind. */
export type ModelEntryOf<Kind extends ModelKind> = Extract<ModelEntry, { kind: Kind }>;
