import type { ModelEntry, ModelKind, ModelProvider } from "./model-entry.ts";

/**
 * Checks the models a configuration names against the catalogue, as of `now`: an unknown id, one of the wrong
 * kind, or one past its shutdown date is a problem (start-up refuses it, naming the setting, the id and what to
 * use instead); a deprecated one still answering is a warning with its date and replacement.
 */

/** One setting's models and what they must be. */
interface ModelSetting {
  readonly setting: string;
  readonly ids: readonly string[];
  /** Undefined: any kind (ALLOWED_MODELS lists models of every kind). */
  readonly kind?: ModelKind;
  readonly provider?: ModelProvider;
}

export interface ModelWarning {
  readonly setting: string;
  readonly model: string;
  readonly shutdown_date: string;
  readonly replacement?: string;
}

interface ModelReview {
  /** Setting name → why it cannot run. */
  readonly problems: Readonly<Record<string, string>>;
  readonly warnings: readonly ModelWarning[];
}

/** The day (UTC) an ISO date string starts. */
function dayStart(isoDate: string): number {
  return Date.parse(`${isoDate}T00:00:00Z`);
}

function isPastShutdown(entry: ModelEntry, now: number): boolean {
  return entry.shutdownDate !== undefined && now >= dayStart(entry.shutdownDate);
}

export function reviewModelSettings(
  entries: readonly ModelEntry[],
  settings: readonly ModelSetting[],
  now: number,
): ModelReview {
  const byId = new Map(entries.map((entry) => [entry.id, entry]));
  const problems: Record<string, string> = {};
  const warnings: ModelWarning[] = [];
  for (const { setting, ids, kind, provider } of settings) {
    const reasons: string[] = [];
    for (const id of ids) {
      const entry = byId.get(id);
      if (entry === undefined) {
        reasons.push(`${id} is not in the model catalogue`);
      } else if (kind !== undefined && entry.kind !== kind) {
        reasons.push(`${id} is a ${entry.kind} model, not a ${kind} model`);
      } else if (provider !== undefined && entry.provider !== provider) {
        reasons.push(`${id} is served by ${entry.provider}, not ${provider}`);
      } else if (isPastShutdown(entry, now)) {
        reasons.push(
          `${id} was shut down on ${entry.shutdownDate ?? ""}` +
            (entry.replacement === undefined ? "" : `; use ${entry.replacement}`),
        );
      } else if (entry.shutdownDate !== undefined) {
        warnings.push({
          setting,
          model: id,
          shutdown_date: entry.shutdownDate,
          ...(entry.replacement === undefined ? {} : { replacement: entry.replacement }),
        });
      }
    }
    if (reasons.length > 0) problems[setting] = reasons.join("; ");
  }
  return { problems, warnings };
}
