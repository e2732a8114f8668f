import assert from "node:assert/strict";
import { ProviderWireServer } from "../../test-support/provider-wire-server.ts";
import { streamEvents, streamFailure } from "../../test-support/provider-failures.ts";
import { wireFixtures } from "../../test-support/wire-fixtures.ts";
import type { TextGenerationRequest } from "../text-provider.ts";
import { OpenAiCompatibleTextProvider } from "./openai-compatible-text-provider.ts";

const KEY = "sk-local-test-key-never-in-errors";
/** The server's answers, replayed from `__fixtures__/<name>.chunks.txt`. */
const reply = wireFixtures(import.meta.dirname);

describe("OpenAiCompatibleTextProvider (the real openai SDK against a local Chat Completions server)", function () {
  this.timeout(20_000);
  let server: ProviderWireServer;
  let provider: OpenAiCompatibleTextProvider;

  before(async () => {
    server = await ProviderWireServer.start();
    provider = new OpenAiCompatibleTextProvider({
      baseUrl: `${server.url}/v1`,
      apiKey: KEY,
      timeoutMs: 500,
      maxRetries: 0,
    });
  });
  after(async () => {
    await server.close();
  });
  beforeEach(() => server.reset());

  const request = (overrides: Partial<TextGenerationRequest> = {}): TextGenerationRequest => ({
    model: "llama3.3",
    systemInstruction: "Be terse.",
    contents: [
      { role: "user", text: "hi" },
      { role: "model", text: "hello" },
      { role: "user", text: "how are you?" },
    ],
    signal: new AbortController().signal,
    ...overrides,
  });

  it("sends the conversation as chat messages with the key, streaming with usage", async () => {
    server.next("chatCompletions", reply("fine-thanks"));
    await streamEvents(provider.stream(request()));
    const [recorded] = server.requests;
    assert.equal(recorded?.path, "/v1/chat/completions");
    assert.equal(recorded.headers.authorization, `Bearer ${KEY}`);
    assert.deepEqual(recorded.body, {
      model: "llama3.3",
      messages: [
        { role: "system", content: "Be terse." },
        { role: "user", content: "hi" },
        { role: "assistant", content: "hello" },
        { role: "user", content: "how are you?" },
      ],
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it("streams text, then the finish reason and usage, ignoring the role-only first chunk", async () => {
    server.next("chatCompletions", reply("fine-thanks"));
    assert.deepEqual(await streamEvents(provider.stream(request())), [
      { type: "text", text: "Fine" },
      { type: "text", text: ", thanks." },
      {
        type: "finish",
        finishReason: "STOP",
        usage: { inputTokens: 9, outputTokens: 2, thinkingTokens: 0 },
        modelVersion: "llama3.3",
      },
    ]);
  });

  it("streams reasoning as thinking events when thoughts are asked for, reasoning_content too", async () => {
    server.next("chatCompletions", reply("reasoning-answer"));
    const events = await streamEvents(provider.stream(request({ includeThoughts: true })));
    assert.deepEqual(
      events.filter((event) => event.type !== "finish"),
      [
        { type: "thinking", text: "six " },
        { type: "thinking", text: "sevens" },
        { type: "text", text: "42" },
      ],
    );
    assert.deepEqual((events.at(-1) as { usage?: unknown }).usage, {
      inputTokens: 9,
      outputTokens: 1,
      thinkingTokens: 2,
    });

    server.next("chatCompletions", reply("reasoning-content-answer"));
    const older = await streamEvents(provider.stream(request({ includeThoughts: true })));
    assert.deepEqual(older[0], { type: "thinking", text: "hmm" });
    server.next("chatCompletions", reply("reasoning-answer"));
    const unasked = await streamEvents(provider.stream(request()));
    assert.ok(!unasked.some((event) => event.type === "thinking"));
  });

  it("classifies error bodies: 429 rate limited, 5xx unavailable, 404 model gone (worth a fallback)", async () => {
    server.next("chatCompletions", reply("error-429-rate-limit"));
    const limited = await streamFailure(provider.stream(request()), KEY);
    assert.equal(limited.error.failure, "rate_limited");
    assert.ok(limited.error.fallbackWorthy);

    server.next("chatCompletions", reply("error-503-overloaded"));
    assert.equal((await streamFailure(provider.stream(request()), KEY)).error.failure, "unavailable");

    server.next("chatCompletions", reply("error-404-model-not-found"));
    const gone = await streamFailure(provider.stream(request()), KEY);
    assert.equal(gone.error.failure, "rejected");
    assert.equal(gone.error.status, 404);
    assert.ok(gone.error.fallbackWorthy);
    assert.ok(!gone.error.message.includes("llama9"), "the server's text stays out of our messages");

    server.next("chatCompletions", reply("error-401-invalid-key"));
    const refused = await streamFailure(provider.stream(request()), KEY);
    assert.equal(refused.error.failure, "rejected");
    assert.equal(refused.error.fallbackWorthy, false);
  });

  it("fails on an error event inside the stream after the text so far, and on a content filter stop", async () => {
    server.next("chatCompletions", reply("error-after-partial"));
    const midway = await streamFailure(provider.stream(request()), KEY);
    assert.equal(midway.text, "Half ");
    assert.equal(midway.error.failure, "unavailable");

    server.next("chatCompletions", reply("content-filter"));
    assert.equal((await streamFailure(provider.stream(request()), KEY)).error.failure, "blocked");
  });

  it("fails as unavailable when the connection drops mid-stream, after the text so far", async () => {
    server.next("chatCompletions", reply("cut-after-partial"));
    const dropped = await streamFailure(provider.stream(request()), KEY);
    assert.equal(dropped.text, "Half ");
    assert.equal(dropped.error.failure, "unavailable");
  });

  it("times out a server that stops sending, and aborts when the caller cancels", async () => {
    server.next("chatCompletions", reply("stall-after-role"));
    const stalled = await streamFailure(provider.stream(request()), KEY);
    assert.equal(stalled.error.failure, "timeout");

    server.next("chatCompletions", reply("a-b-c", { delayMs: 100 }));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 120);
    const aborted = await streamFailure(provider.stream(request({ signal: controller.signal })), KEY);
    assert.equal(aborted.error.failure, "aborted");
  });
});
