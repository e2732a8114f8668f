import type { ModelCapabilities, ModelList, ModelOption } from "../../contract/resources.ts";
import type { ModelChoices } from "../../models/model-choices.ts";
import type { ModelEntry, ModelKind } from "../../models/model-entry.ts";
import type { Route } from "../router.ts";

/** What this server allows beyond a model's own limits. */
interface ModelLimits {
  /** `VIDEO_MAX_DURATION_SECONDS`: longer clips are refused whatever the model offers. */
  readonly videoMaxSeconds: number;
}

/** A model as `GET /models` shows it: what a picker needs, in the API's snake_case. */
function toApiModel(entry: ModelEntry, isDefault: boolean, limits: ModelLimits): ModelOption {
  return {
    id: entry.id,
    label: entry.label,
    provider: entry.provider,
    default: isDefault,
    lifecycle: entry.lifecycle,
    ...(entry.shutdownDate === undefined ? {} : { shutdown_date: entry.shutdownDate }),
    capabilities: apiCapabilities(entry, limits),
  };
}

function apiCapabilities(entry: ModelEntry, limits: ModelLimits): ModelCapabilities {
  switch (entry.kind) {
    case "text": {
      const { thinkingLevels, thoughtSummaries, grounding, functionCalling, imageInput } = entry.capabilities;
      const { contextTokens, maxOutputTokens } = entry.capabilities;
      return {
        thinking: thinkingLevels.length > 0 || thoughtSummaries,
        thinking_levels: thinkingLevels,
        thought_summaries: thoughtSummaries,
        grounding,
        function_calling: functionCalling,
        image_input: imageInput,
        ...(contextTokens === undefined ? {} : { context_tokens: contextTokens }),
        ...(maxOutputTokens === undefined ? {} : { max_output_tokens: maxOutputTokens }),
      };
    }
    case "image": {
      const { aspectRatios, imageSizes, edit, maxInputImages } = entry.capabilities;
      return { aspect_ratios: aspectRatios, image_sizes: imageSizes, edit, max_input_images: maxInputImages };
    }
    case "video": {
      const { aspectRatios, durationsSeconds, resolutions, imageInput, conversationalEdits } = entry.capabilities;
      return {
        aspect_ratios: aspectRatios,
        durations_seconds: durationsSeconds.filter((seconds) => seconds <= limits.videoMaxSeconds),
        resolutions,
        image_input: imageInput,
        conversational_edits: conversationalEdits,
      };
    }
  }
}

/** `GET /models`: the models this caller may pick, per kind, exactly one default each. */
export function modelRoutes(choices: ModelChoices, limits: ModelLimits): Route[] {
  const list = (kind: ModelKind) =>
    choices.pickable(kind).map((entry) => toApiModel(entry, entry.id === choices.defaultOf(kind), limits));
  return [
    {
      method: "GET",
      path: "/models",
      access: "any",
      handle: (context) => {
        const models: ModelList = { ok: true, text: list("text"), image: list("image"), video: list("video") };
        context.sendJson(200, models);
        return Promise.resolve();
      },
    },
  ];
}
