import assert from "node:assert/strict";
import { ProviderError } from "../provider-error.ts";
import { SimulatedSearchProvider } from "./simulated-search-provider.ts";
import { SimulatedTextProvider, SLOW_TOKEN_DELAY_MS, simulatedAnswer } from "./simulated-text-provider.ts";
import type { TextStreamEvent } from "../text-provider.ts";

describe("simulated providers (offline, labelled)", () => {
  const request = (text: string, signal = new AbortController().signal) => ({
    model: "gemini-3.8-flash",
    systemInstruction: "",
    contents: [{ role: "user" as const, text }],
    signal,
  });

  it("text: answers deterministically, differently for different prompts, and labels itself simulated", async () => {
    const provider = new SimulatedTextProvider({ tokenDelayMs: 0 });
    assert.equal(provider.run, "simulated");
    const collect = async (text: string) => {
      let answer = "";
      for await (const event of provider.stream(request(text))) if (event.type === "text") answer += event.text;
      return answer;
    };
    assert.equal(await collect("paint a fox"), await collect("paint a fox"));
    assert.notEqual(await collect("paint a fox"), await collect("write a poem about rain"));
    assert.match(await collect("paint a fox"), /paint a fox/);
  });

  it("text: paces tokens at the configured delay and ends with usage", async () => {
    const provider = new SimulatedTextProvider({ tokenDelayMs: 20, fixedTokens: 5 });
    const started = Date.now();
    const events: TextStreamEvent[] = [];
    for await (const event of provider.stream(request("hi"))) events.push(event);
    assert.ok(Date.now() - started >= 90, "five tokens at 20 ms each");
    assert.equal(events.filter((event) => event.type === "text").length, 5);
    assert.deepEqual(events.at(-1), {
      type: "finish",
      finishReason: "STOP",
      usage: { inputTokens: 1, outputTokens: 5 },
    });
  });

  it("text: streams `simulate:slow` at SLOW_TOKEN_DELAY_MS per word whatever the configured delay", async () => {
    const provider = new SimulatedTextProvider({ tokenDelayMs: 0, fixedTokens: 3 });
    const timed = async (text: string) => {
      const started = Date.now();
      const events: TextStreamEvent[] = [];
      for await (const event of provider.stream(request(text))) events.push(event);
      return { elapsed: Date.now() - started, texts: events.filter((event) => event.type === "text").length };
    };
    const slow = await timed("take it easy simulate:slow");
    assert.ok(
      slow.elapsed >= 3 * SLOW_TOKEN_DELAY_MS - 5,
      `three words at ${SLOW_TOKEN_DELAY_MS} ms took ${slow.elapsed}`,
    );
    assert.equal(slow.texts, 3);
    const fast = await timed("take it easy");
    assert.ok(fast.elapsed < SLOW_TOKEN_DELAY_MS, `without the phrase the configured 0 ms holds (${fast.elapsed} ms)`);
  });

  it("text: cites the numbered sources it is given", () => {
    const answer = simulatedAnswer({
      contents: [{ role: "user", text: "What is new?" }],
      sources: [
        { index: 1, title: "One", url: "https://example.org/1" },
        { index: 2, title: "Two", url: "https://example.org/2" },
      ],
    });
    assert.match(answer, /\[1\]/);
    assert.match(answer, /\[2\]/);
  });

  it("text: stops when aborted, and simulates a safety block and an outage on request", async () => {
    const controller = new AbortController();
    const provider = new SimulatedTextProvider({ tokenDelayMs: 50 });
    const outcome = (async () => {
      for await (const _event of provider.stream(request("hello", controller.signal))) controller.abort();
    })();
    await assert.rejects(outcome, (error: unknown) => error instanceof ProviderError && error.failure === "aborted");
    const drain = async (text: string) => {
      for await (const _event of new SimulatedTextProvider({ tokenDelayMs: 0 }).stream(request(text))) {
        // consume
      }
    };
    await assert.rejects(
      drain("simulate:blocked"),
      (error: unknown) => error instanceof ProviderError && error.failure === "blocked",
    );
    await assert.rejects(
      drain("simulate:unavailable"),
      (error: unknown) => error instanceof ProviderError && error.failure === "unavailable",
    );
  });

  it("search: deterministic, example.org results, no more than asked for", async () => {
    const provider = new SimulatedSearchProvider();
    assert.equal(provider.run, "simulated");
    const first = await provider.search("mars rover", { depth: "advanced", maxResults: 4 });
    assert.equal(first.length, 4);
    assert.deepEqual(first, await provider.search("mars rover", { depth: "advanced", maxResults: 4 }));
    assert.ok(first.every((result) => result.url.startsWith("https://example.org/simulated/")));
    await assert.rejects(provider.search("simulate:search-down", { depth: "basic", maxResults: 3 }), ProviderError);
  });
});
