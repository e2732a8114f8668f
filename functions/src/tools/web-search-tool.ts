import { z } from "zod";
import type { DocumentDatabase } from "../database/document-database.ts";
import type { Grounder } from "../grounding/grounder.ts";
import { runChecks } from "../store/transaction-check.ts";
import { hourlyGroundingCheck } from "../ops/usage-quotas.ts";
import type { ChatTool, ToolApproval } from "./chat-tool.ts";
import { toolFailure } from "./tool-registry.ts";

/** How much of each result the model reads. */
const MAX_SOURCE_CHARACTERS = 1_500;

const webSearchParameters = z.object({
  query: z.string().min(1).max(400).describe("What to search the web for, as a search engine query"),
});

interface WebSearchToolDependencies {
  readonly grounder: Grounder;
  readonly database: DocumentDatabase;
  /** Searches per user per hour (`TAVILY_MAX_QUERIES_PER_HOUR`), shared with grounded requests. */
  readonly limitPerHour: number;
  readonly approval: ToolApproval;
  readonly now: () => number;
}

/**
 * `web_search`: the model decides to search (Tavily, the same search as grounding, under the same hourly limit).
 * The results come back numbered across the answer, so the model cites them as `[n]`; the answer's citation
 * filter then accepts exactly those numbers, the client gets a `sources` event, and the message stores them as
 * `citations` and `grounding` with which ones the answer used, as a grounded answer does.
 */
export function webSearchTool(dependencies: WebSearchToolDependencies): ChatTool<z.infer<typeof webSearchParameters>> {
  const { grounder, database, limitPerHour, approval, now } = dependencies;
  return {
    name: "web_search",
    description:
      "Searches the web for current information (news, recent events, facts that change). Cite what you use from the results with their [n] numbers.",
    parameters: webSearchParameters,
    approval,
    async run(input, context) {
      if (!grounder.available) return toolFailure("Web search is not configured on this server.");
      const check = hourlyGroundingCheck({ uid: context.user.uid, limit: limitPerHour, now: new Date(now()) });
      await runChecks(database, [check]);
      if (context.reserveSearch !== undefined && !(await context.reserveSearch())) {
        return toolFailure("The user's monthly budget does not cover another web search. Answer without it.");
      }
      const found = await grounder.search(input.query);
      const sources = found.map((result, position) => ({ ...result, index: context.nextSourceIndex + position }));
      return {
        ok: true,
        summary: `${String(sources.length)} web sources found`,
        sources,
        searchQueries: 1,
        response: {
          ok: true,
          results: sources.map((source) => ({
            index: source.index,
            title: source.title,
            url: source.url,
            content: source.content.slice(0, MAX_SOURCE_CHARACTERS),
          })),
          note:
            sources.length === 0
              ? "Nothing relevant was found; say so if the question needs current facts."
              : "Cite these inline with their number in square brackets, like [1], right after what they support.",
        },
      };
    },
  };
}
