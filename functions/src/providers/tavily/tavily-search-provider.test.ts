import assert from "node:assert/strict";
import { ProviderWireServer } from "../../test-support/provider-wire-server.ts";
import { wireFixtures } from "../../test-support/wire-fixtures.ts";
import { ProviderError } from "../provider-error.ts";
import { TavilySearchProvider } from "./tavily-search-provider.ts";

const KEY = "tvly-test-key-not-for-logs";
/** Tavily's answers, replayed from `__fixtures__/<name>.chunks.txt`. */
const reply = wireFixtures(import.meta.dirname);

describe("TavilySearchProvider (real @tavily/core SDK against a local POST /search server)", function () {
  this.timeout(20_000);
  let server: ProviderWireServer;
  let provider: TavilySearchProvider;
  const options = { depth: "advanced", maxResults: 5 } as const;

  before(async () => {
    server = await ProviderWireServer.start();
    provider = new TavilySearchProvider({ apiKey: KEY, baseUrl: `${server.url}/`, timeoutSeconds: 1 });
  });
  after(async () => {
    await server.close();
  });
  beforeEach(() => server.reset());

  async function failure(promise: Promise<unknown>): Promise<ProviderError> {
    try {
      await promise;
    } catch (error) {
      assert.ok(error instanceof ProviderError);
      assert.equal(error.provider, "tavily");
      assert.equal(error.toAppError().code, "unavailable");
      assert.ok(!error.message.includes(KEY));
      return error;
    }
    throw new Error("expected a failure");
  }

  it("searches with the key, depth and result count, and maps the results", async () => {
    server.next("search", reply("search-two-results"));
    const results = await provider.search("who is the president of France", options);
    assert.deepEqual(results, [
      { title: "T1", url: "https://e.com/1", content: "c1", score: 0.9 },
      { title: "T2", url: "https://e.com/2", content: "c2", score: 0.7 },
    ]);
    const [recorded] = server.requests;
    assert.ok(recorded);
    assert.equal(recorded.path, "/search");
    assert.equal(recorded.headers.authorization, `Bearer ${KEY}`);
    assert.equal(recorded.headers["x-tavily-access-mode"], undefined, "never keyless");
    assert.deepEqual(
      {
        query: (recorded.body as Record<string, unknown>).query,
        search_depth: (recorded.body as Record<string, unknown>).search_depth,
        max_results: (recorded.body as Record<string, unknown>).max_results,
      },
      { query: "who is the president of France", search_depth: "advanced", max_results: 5 },
    );
  });

  it("refuses to exist without a key, so the SDK can never fall back to keyless mode", () => {
    assert.throws(() => new TavilySearchProvider({ apiKey: "  ", timeoutSeconds: 1 }), /needs an API key/);
  });

  it("reports Tavily's error body as unavailable", async () => {
    server.next("search", reply("error-401-unauthorized"));
    const error = await failure(provider.search("q", options));
    assert.equal(error.failure, "unavailable");
  });

  it("reports a 5xx without a detail body as unavailable", async () => {
    server.next("search", reply("error-502-bad-gateway"));
    await failure(provider.search("q", options));
  });

  it("reports a search that takes too long as a timeout", async () => {
    server.next("search", reply("search-no-results", { latencyMs: 2_500 }));
    const error = await failure(provider.search("q", options));
    assert.equal(error.failure, "timeout");
  });

  it("reports a body that is not Tavily's as unavailable", async () => {
    server.next("search", reply("unexpected-body"));
    await failure(provider.search("q", options));
    server.next("search", reply("search-malformed-result"));
    await failure(provider.search("q", options));
  });

  it("returns an empty list when the search finds nothing", async () => {
    server.next("search", reply("search-no-results"));
    assert.deepEqual(await provider.search("q", options), []);
  });
});
