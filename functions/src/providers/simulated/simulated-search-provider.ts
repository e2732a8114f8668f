import { createHash } from "node:crypto";
import { ProviderError } from "../provider-error.ts";
import type { SearchOptions, SearchProvider, SearchResult } from "../search-provider.ts";

/**
 * Offline web search (labelled `simulated`): deterministic results derived from the query, on `example.org`
 * addresses so nobody mistakes them for real sources. A query containing `simulate:search-down` fails like a
 * Tavily outage, for demos and tests of the error path.
 */
const ANGLES = ["Overview", "Background", "Recent developments", "Frequently asked questions", "Analysis"] as const;

export class SimulatedSearchProvider implements SearchProvider {
  readonly run = "simulated" as const;

  search(query: string, options: SearchOptions): Promise<SearchResult[]> {
    if (query.includes("simulate:search-down")) {
      return Promise.reject(new ProviderError("tavily", "unavailable", "Simulated search outage"));
    }
    const topic = query.trim().replace(/\s+/g, " ").slice(0, 80);
    const slug = createHash("sha256").update(topic).digest("hex").slice(0, 10);
    const count = Math.min(options.maxResults, ANGLES.length, options.depth === "advanced" ? 5 : 3);
    return Promise.resolve(
      ANGLES.slice(0, count).map((angle, index) => ({
        title: `${angle}: ${topic}`,
        url: `https://example.org/simulated/${slug}/${index + 1}`,
        content: `${angle} of "${topic}" (simulated search result ${index + 1}, for offline use).`,
        score: Math.round((0.95 - index * 0.1) * 100) / 100,
      })),
    );
  }
}
