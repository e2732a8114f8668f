import { invalidArgument } from "../errors/app-error.ts";
import type { ModelEntry, ModelEntryOf, ModelKind } from "./model-entry.ts";

/**
 * What a user may pick, per kind, and what runs when they pick it: the default, the allowed list (only models
 * whose provider this server can run), and the fallback chain each request walks when a model fails before it
 * has produced anything.
 */
interface ModelChoicesOptions {
  /** The catalogue, with the operator's own models added. */
  readonly entries: readonly ModelEntry[];
  readonly defaults: Readonly<Record<ModelKind, string>>;
  /** Models a user may pick, of any kind (the defaults are always allowed). */
  readonly allowed: readonly string[];
  /** Tried in order after the requested model. */
  readonly fallbacks: Readonly<Record<ModelKind, readonly string[]>>;
  /** Whether this server has a provider (live or simulated) for a model. */
  readonly available: (entry: ModelEntry) => boolean;
}

/** The model to run for a request, and the models to fall back to after it, in order. */
export interface ModelChoice<Kind extends ModelKind = ModelKind> {
  readonly model: ModelEntryOf<Kind>;
  readonly chain: readonly ModelEntryOf<Kind>[];
}

export class ModelChoices {
  readonly #byId: ReadonlyMap<string, ModelEntry>;
  readonly #options: ModelChoicesOptions;
  readonly #pickable: ReadonlyMap<ModelKind, readonly ModelEntry[]>;

  constructor(options: ModelChoicesOptions) {
    this.#options = options;
    this.#byId = new Map(options.entries.map((entry) => [entry.id, entry]));
    const pickable = new Map<ModelKind, ModelEntry[]>();
    const wanted = [...Object.values(options.defaults), ...options.allowed];
    for (const id of new Set(wanted)) {
      const entry = this.#byId.get(id);
      if (entry === undefined || !options.available(entry)) continue;
      const list = pickable.get(entry.kind) ?? [];
      list.push(entry);
      pickable.set(entry.kind, list);
    }
    this.#pickable = pickable;
  }

  entry(id: string): ModelEntry | undefined {
    return this.#byId.get(id);
  }

  defaultOf(kind: ModelKind): string {
    return this.#options.defaults[kind];
  }

  /** The models a user may pick for a kind, the default first. */
  pickable<Kind extends ModelKind>(kind: Kind): readonly ModelEntryOf<Kind>[] {
    return (this.#pickable.get(kind) ?? []) as readonly ModelEntryOf<Kind>[];
  }

  /**
   * The model for a request (`requested`, else the default) and its fallback chain. A model outside the pickable
   * list is a 400 naming the field, so nothing is written for it. `accepts` drops fallbacks that cannot honour
   * this request (an aspect ratio or a duration a fallback does not offer).
   */
  choose<Kind extends ModelKind>(
    kind: Kind,
    requested: string | undefined,
    accepts: (entry: ModelEntryOf<Kind>) => boolean = () => true,
  ): ModelChoice<Kind> {
    const pickable = this.pickable(kind);
    const id = requested ?? this.defaultOf(kind);
    const model = pickable.find((entry) => entry.id === id);
    if (model === undefined) {
      throw invalidArgument("Unknown model.", {
        model: `Must be one of: ${pickable.map((entry) => entry.id).join(", ")} (see GET /models)`,
      });
    }
    const chain: ModelEntryOf<Kind>[] = [];
    for (const fallbackId of this.#options.fallbacks[kind]) {
      const entry = this.#byId.get(fallbackId) as ModelEntryOf<Kind> | undefined;
      if (entry === undefined || entry.id === model.id || entry.kind !== kind) continue;
      if (!this.#options.available(entry) || !accepts(entry) || chain.includes(entry)) continue;
      chain.push(entry);
    }
    return { model, chain };
  }
}
