import { invalidArgument, type FieldProblems } from "../errors/app-error.ts";
import type { ModelChoice, ModelChoices } from "../models/model-choices.ts";
import type { ModelEntryOf } from "../models/model-entry.ts";

/** What an image or video request needs of its model. */
interface JobModelNeeds {
  readonly aspectRatio?: string | undefined;
  readonly durationSeconds?: number | undefined;
  /** An edit of an input image (image models). */
  readonly edit?: boolean;
  /** A first frame (video models). */
  readonly image?: boolean;
  /** Continues an earlier generation (video models that keep a conversation). */
  readonly continues?: boolean;
}

type MediaEntry = ModelEntryOf<"image"> | ModelEntryOf<"video">;

/** Why `entry` cannot honour `needs`, by request field; empty when it can. */
function problemsOf(entry: MediaEntry, needs: JobModelNeeds): FieldProblems {
  const problems: Record<string, string> = {};
  const { aspectRatios } = entry.capabilities;
  if (needs.aspectRatio !== undefined && !aspectRatios.includes(needs.aspectRatio)) {
    problems.aspect_ratio = `${entry.id} makes ${aspectRatios.join(", ")}`;
  }
  if (entry.kind === "image") {
    if (needs.edit === true && !entry.capabilities.edit) problems.model = `${entry.id} cannot edit images`;
  } else {
    const { durationsSeconds, imageInput } = entry.capabilities;
    if (needs.durationSeconds !== undefined && !durationsSeconds.includes(needs.durationSeconds)) {
      problems.duration_seconds = `${entry.id} makes clips of ${durationsSeconds.join(", ")} seconds`;
    }
    if (needs.image === true && !imageInput) problems.image = `${entry.id} takes no first frame`;
    if (needs.continues === true && !entry.capabilities.conversationalEdits) {
      problems.model = `${entry.id} cannot continue an earlier video`;
    }
  }
  return problems;
}

/**
 * The model for an image or video request (`requested`, else the default) and the fallbacks that can honour the
 * same request. A model outside the caller's list, or one that cannot make what is asked (an aspect ratio or a
 * duration it does not offer), is a 400 naming the field, before anything is written.
 */
export function chooseJobModel<Kind extends "image" | "video">(
  models: ModelChoices,
  kind: Kind,
  requested: string | undefined,
  needs: JobModelNeeds,
): ModelChoice<Kind> {
  const choice = models.choose(kind, requested, (entry) => Object.keys(problemsOf(entry, needs)).length === 0);
  const problems = problemsOf(choice.model, needs);
  if (Object.keys(problems).length > 0) {
    throw invalidArgument(`Invalid request: ${Object.keys(problems).join(", ")}.`, problems);
  }
  return choice;
}
