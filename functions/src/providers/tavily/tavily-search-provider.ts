import type { TavilyClient } from "@tavily/core";
import { z } from "zod";
import { ProviderError } from "../provider-error.ts";
import type { SearchOptions, SearchProvider, SearchResult } from "../search-provider.ts";

/**
 * Web search through `@tavily/core`. It is only ever built with a key: without one the SDK silently switches to
 * its "keyless" mode, which we never want, so a missing `TAVILY_API_KEY` means "not configured" before this
 * class is reached. `TAVILY_ENDPOINT` becomes the SDK's `apiBaseURL`; the timeout is the SDK's, in seconds.
 * Every failure (timeout, 4xx/5xx, a body that is not what Tavily sends) is one `unavailable` ProviderError.
 */

const resultSchema = z.object({
  title: z.string(),
  url: z.string(),
  content: z.string(),
  score: z.number(),
});
const responseSchema = z.object({ results: z.array(z.unknown()) });

interface TavilySearchProviderOptions {
  readonly apiKey: string;
  readonly baseUrl?: string;
  readonly timeoutSeconds: number;
}

export class TavilySearchProvider implements SearchProvider {
  readonly run = "live" as const;
  readonly #options: TavilySearchProviderOptions;
  #client: Promise<TavilyClient> | undefined;

  constructor(options: TavilySearchProviderOptions) {
    if (options.apiKey.trim() === "") throw new Error("TavilySearchProvider needs an API key");
    this.#options = options;
  }

  async search(query: string, options: SearchOptions): Promise<SearchResult[]> {
    this.#client ??= import("@tavily/core").then(({ tavily }) =>
      tavily({
        apiKey: this.#options.apiKey,
        ...(this.#options.baseUrl === undefined ? {} : { apiBaseURL: this.#options.baseUrl.replace(/\/+$/, "") }),
      }),
    );
    const client = await this.#client;
    let response: unknown;
    try {
      response = await client.search(query, {
        searchDepth: options.depth,
        maxResults: options.maxResults,
        includeAnswer: false,
        timeout: this.#options.timeoutSeconds,
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new ProviderError(
        "tavily",
        /timed out/i.test(message) ? "timeout" : "unavailable",
        "Tavily search failed",
        {
          cause: error,
        },
      );
    }
    const parsed = responseSchema.safeParse(response);
    if (!parsed.success) throw new ProviderError("tavily", "unavailable", "Tavily answered with an unexpected body");
    const results: SearchResult[] = [];
    for (const item of parsed.data.results) {
      const result = resultSchema.safeParse(item);
      if (!result.success) throw new ProviderError("tavily", "unavailable", "Tavily sent a malformed result");
      results.push(result.data);
    }
    return results.slice(0, options.maxResults);
  }
}
