import { SpanKind } from "@opentelemetry/api";
import { errorType, inSpan, noTelemetry, type Telemetry } from "../telemetry/telemetry.ts";
import type { ConversationTurn } from "../providers/text-provider.ts";
import type { SearchOptions, SearchProvider } from "../providers/search-provider.ts";
import type { Citation } from "../contract/chat-events.ts";
import type { GroundingResult } from "../contract/resources.ts";
import { CitationFilter } from "./citation-filter.ts";

/**
 * Grounding: a web search for the user's question, turned into numbered sources the model is told to cite
 * with `[n]`, a citation filter that keeps the answer honest while it streams, and the fields stored on the
 * finished message (`grounding`, `citations` with `used`, `citations_removed`).
 */
export interface GroundingPlan {
  readonly grounding: readonly GroundingResult[];
  readonly citations: readonly Citation[];
  readonly systemInstruction: string;
  readonly sources: readonly { readonly index: number; readonly title: string; readonly url: string }[];
  readonly filter: CitationFilter;
}

const MAX_QUERY_CHARACTERS = 400;
const MAX_SOURCE_CHARACTERS = 1_500;
const SHORT_QUESTION_WORDS = 6;

/**
 * The search query: the question itself, or, for a short follow-up ("and in Germany?"), the previous question
 * and the follow-up together, so the search knows what "it" refers to.
 */
function searchQuery(question: string, conversation: readonly ConversationTurn[]): string {
  const trimmed = question.trim().replace(/\s+/g, " ");
  const earlierQuestions = conversation.filter((turn) => turn.role === "user").slice(0, -1);
  const previous = earlierQuestions.at(-1)?.text.trim().replace(/\s+/g, " ");
  const query =
    previous !== undefined && trimmed.split(" ").length <= SHORT_QUESTION_WORDS ? `${previous} ${trimmed}` : trimmed;
  return query.length <= MAX_QUERY_CHARACTERS ? query : query.slice(query.length - MAX_QUERY_CHARACTERS);
}

/** The system instruction of a grounded answer: the base one, and the numbered sources to cite as `[n]`. */
export function groundedInstruction(baseInstruction: string, grounding: readonly GroundingResult[]): string {
  if (grounding.length === 0) {
    return `${baseInstruction}\n\nA web search found nothing relevant. Say so if the question needs current facts.`;
  }
  const listing = grounding
    .map(
      (result, position) =>
        `[${position + 1}] ${result.title} (${result.url})\n${result.content.slice(0, MAX_SOURCE_CHARACTERS)}`,
    )
    .join("\n\n");
  return (
    `${baseInstruction}\n\nAnswer using the numbered web sources below. Cite them inline with their number in ` +
    `square brackets, like [1] or [2][3], right after the statement they support. Cite only these numbers; ` +
    `do not add a list of sources at the end (the app shows one).\n\nSources:\n${listing}`
  );
}

export class Grounder {
  readonly #search: SearchProvider | undefined;
  readonly #options: SearchOptions;
  readonly #telemetry: Telemetry;

  /**
   * `search` is undefined when grounding is not configured (no key, simulation not allowed); `options` is how
   * every search is made (depth, number of results). Each search is a span (`search tavily`: the depth, the query's
   * length and the number of results, never the query).
   */
  constructor(search: SearchProvider | undefined, options: SearchOptions, telemetry: Telemetry = noTelemetry()) {
    this.#search = search;
    this.#options = options;
    this.#telemetry = telemetry;
  }

  #find(query: string): Promise<GroundingResult[]> {
    const search = this.#search;
    if (search === undefined) throw new Error("Grounding is not configured");
    const { tracer, metrics } = this.#telemetry;
    return inSpan(
      tracer,
      "search tavily",
      {
        kind: SpanKind.CLIENT,
        attributes: { "atelier.search.depth": this.#options.depth, "atelier.search.query_length": query.length },
      },
      async (span) => {
        try {
          const results = await search.search(query, this.#options);
          span.setAttribute("atelier.search.results", results.length);
          return results.map(({ title, url, content, score }) => ({ title, url, content, score }));
        } catch (error) {
          metrics.providerErrors.add(1, { "atelier.provider": "tavily", "error.type": errorType(error) });
          throw error;
        }
      },
    );
  }

  /** The most results one search brings (what a grounded answer's instruction may carry). */
  get maxResults(): number {
    return this.#options.maxResults;
  }

  get available(): boolean {
    return this.#search !== undefined;
  }

  /** A web search the chat model asked for (its `web_search` tool): the results, best first. */
  async search(query: string): Promise<GroundingResult[]> {
    return this.#find(query.trim().slice(0, MAX_QUERY_CHARACTERS));
  }

  async plan(
    question: string,
    conversation: readonly ConversationTurn[],
    baseInstruction: string,
  ): Promise<GroundingPlan> {
    const grounding = await this.#find(searchQuery(question, conversation));
    const citations = grounding.map(({ title, url }, position) => ({ index: position + 1, url, title }));
    const systemInstruction = groundedInstruction(baseInstruction, grounding);
    const filter = new CitationFilter(citations.length);
    return {
      grounding,
      citations,
      systemInstruction,
      sources: citations.map(({ index, title, url }) => ({ index, title, url })),
      filter,
    };
  }
}
