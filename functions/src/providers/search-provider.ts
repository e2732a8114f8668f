import type { ProviderRun } from "../contract/resources.ts";

export interface SearchResult {
  readonly title: string;
  readonly url: string;
  readonly content: string;
  readonly score: number;
}

export interface SearchOptions {
  readonly depth: "basic" | "advanced";
  readonly maxResults: number;
}

/** The web-search port. Throws a `ProviderError` (provider `tavily`) on any failure. */
export interface SearchProvider {
  readonly run: ProviderRun;
  search(query: string, options: SearchOptions): Promise<SearchResult[]>;
}
