import assert from "node:assert/strict";
import { jsonResponse, ProviderWireServer } from "../../test-support/provider-wire-server.ts";
import { streamEvents, streamFailure } from "../../test-support/provider-failures.ts";
import { wireFixtures } from "../../test-support/wire-fixtures.ts";
import { GeminiTextProvider } from "./gemini-text-provider.ts";
import { ProviderError } from "../provider-error.ts";
import type { TextGenerationRequest } from "../text-provider.ts";

const API_KEY = "AIzaSy-test-key-never-in-errors";
/** Gemini's answers, replayed from `__fixtures__/<name>.chunks.txt`. */
const reply = wireFixtures(import.meta.dirname);

describe("GeminiTextProvider (real @google/genai SDK against a local Gemini wire-format server)", function () {
  this.timeout(20_000);
  let server: ProviderWireServer;
  let provider: GeminiTextProvider;

  before(async () => {
    server = await ProviderWireServer.start();
    provider = new GeminiTextProvider({
      apiKey: API_KEY,
      baseUrl: server.url,
      timeoutMs: 500,
      retryBaseMs: 20,
      maxRetries: 2,
    });
  });
  after(async () => {
    await server.close();
  });
  beforeEach(() => server.reset());

  const request = (overrides: Partial<TextGenerationRequest> = {}): TextGenerationRequest => ({
    model: "gemini-3.8-flash",
    systemInstruction: "Be terse.",
    contents: [
      { role: "user", text: "hi" },
      { role: "model", text: "hello" },
      { role: "user", text: "how are you?" },
    ],
    signal: new AbortController().signal,
    ...overrides,
  });

  it("streams text chunks, then the finish reason and usage", async () => {
    server.next("streamGenerateContent", reply("gemini-hello"));
    const events = await streamEvents(provider.stream(request()));
    assert.deepEqual(events, [
      { type: "text", text: "Hel" },
      { type: "text", text: "lo" },
      { type: "text", text: "!" },
      {
        type: "finish",
        finishReason: "STOP",
        usage: { inputTokens: 12, outputTokens: 3 },
        modelVersion: "gemini-3.8-flash",
      },
    ]);
  });

  it("sends the conversation, the system instruction and the key the way the API expects", async () => {
    server.next("streamGenerateContent", reply("gemini-ok"));
    const image = Buffer.from([0x89, 0x50, 0x4e, 0x47]);
    await streamEvents(
      provider.stream(
        request({ contents: [{ role: "user", text: "look", images: [{ mimeType: "image/png", data: image }] }] }),
      ),
    );
    const [recorded] = server.requests;
    assert.ok(recorded);
    assert.equal(recorded.path, "/v1beta/models/gemini-3.8-flash:streamGenerateContent?alt=sse");
    assert.equal(recorded.headers["x-goog-api-key"], API_KEY);
    const body = recorded.body as {
      contents: { role: string; parts: Record<string, unknown>[] }[];
      systemInstruction: { parts: { text: string }[] };
    };
    assert.equal(body.systemInstruction.parts[0]?.text, "Be terse.");
    assert.deepEqual(body.contents[0], {
      role: "user",
      parts: [{ text: "look" }, { inlineData: { mimeType: "image/png", data: image.toString("base64") } }],
    });
  });

  it("declares tools as JSON Schema, and yields each function call with its own thought signature", async () => {
    server.next("streamGenerateContent", reply("gemini-function-calls"));
    const parameters = { type: "object", properties: { prompt: { type: "string" } }, required: ["prompt"] };
    const events = await streamEvents(
      provider.stream(request({ tools: [{ name: "generate_image", description: "Draws.", parameters }] })),
    );
    assert.deepEqual(events.slice(0, 3), [
      { type: "text", text: "Let me draw both." },
      {
        type: "tool_call",
        call: { id: "fc-1", name: "generate_image", arguments: { prompt: "a fox" }, signature: "c2lnLW9uZQ==" },
      },
      { type: "tool_call", call: { id: "fc-2", name: "generate_image", arguments: { prompt: "a hare", count: 2 } } },
    ]);
    const body = server.requests[0]?.body as { tools: unknown };
    assert.deepEqual(body.tools, [
      { functionDeclarations: [{ name: "generate_image", description: "Draws.", parametersJsonSchema: parameters }] },
    ]);
  });

  it("sends the calls back exactly as made (signature on its part, ids kept) and the replies as functionResponse parts", async () => {
    server.next("streamGenerateContent", reply("gemini-ok"));
    await streamEvents(
      provider.stream(
        request({
          contents: [
            { role: "user", text: "draw a fox and a hare" },
            {
              role: "model",
              text: "Let me draw both.",
              toolCalls: [
                { id: "fc-1", name: "generate_image", arguments: { prompt: "a fox" }, signature: "c2lnLW9uZQ==" },
                { id: "fc-2", name: "generate_image", arguments: { prompt: "a hare" } },
              ],
            },
            {
              role: "tool",
              text: "",
              toolResults: [
                { id: "fc-1", name: "generate_image", response: { ok: true, job_id: "job-1" } },
                { id: "fc-2", name: "generate_image", response: { ok: false, error: "limit" } },
              ],
            },
          ],
        }),
      ),
    );
    const body = server.requests[0]?.body as { contents: unknown[] };
    assert.deepEqual(body.contents.slice(1), [
      {
        role: "model",
        parts: [
          { text: "Let me draw both." },
          {
            functionCall: { id: "fc-1", name: "generate_image", args: { prompt: "a fox" } },
            thoughtSignature: "c2lnLW9uZQ==",
          },
          { functionCall: { id: "fc-2", name: "generate_image", args: { prompt: "a hare" } } },
        ],
      },
      {
        role: "user",
        parts: [
          { functionResponse: { id: "fc-1", name: "generate_image", response: { ok: true, job_id: "job-1" } } },
          { functionResponse: { id: "fc-2", name: "generate_image", response: { ok: false, error: "limit" } } },
        ],
      },
    ]);
  });

  it("sends Gemini 3's request shape: a thinking level, no thinking budget, no sampling parameters", async () => {
    server.next("streamGenerateContent", reply("gemini-ok"));
    await streamEvents(provider.stream(request({ thinkingLevel: "low", includeThoughts: true })));
    const body = server.requests[0]?.body as { generationConfig?: Record<string, unknown> };
    assert.deepEqual(body.generationConfig, { thinkingConfig: { thinkingLevel: "LOW", includeThoughts: true } });
  });

  it("sends no thinking config when none is asked for (the model's defaults apply)", async () => {
    server.next("streamGenerateContent", reply("gemini-ok"));
    await streamEvents(provider.stream(request()));
    const body = server.requests[0]?.body as { generationConfig?: Record<string, unknown> };
    assert.equal(body.generationConfig?.thinkingConfig, undefined);
    for (const sampling of ["temperature", "topP", "topK"]) assert.equal(body.generationConfig?.[sampling], undefined);
  });

  it("streams thought summaries as thinking events, apart from the answer, and reports thinking and cached tokens", async () => {
    server.next("streamGenerateContent", reply("gemini-thinking-answer"));
    const events = await streamEvents(provider.stream(request({ includeThoughts: true })));
    assert.deepEqual(events, [
      { type: "thinking", text: "Weighing " },
      { type: "thinking", text: "options." },
      { type: "text", text: "Answer." },
      {
        type: "finish",
        finishReason: "STOP",
        usage: { inputTokens: 40, outputTokens: 2, thinkingTokens: 17, cachedTokens: 32 },
        modelVersion: "gemini-3.8-flash",
      },
    ]);
  });

  it("drops thought parts when thoughts were not asked for", async () => {
    server.next("streamGenerateContent", reply("gemini-thought-then-answer"));
    const events = await streamEvents(provider.stream(request()));
    assert.deepEqual(
      events.filter((event) => event.type !== "finish"),
      [{ type: "text", text: "answer" }],
    );
  });

  it("retries a 429 before the first token, waiting the suggested delay, then succeeds", async () => {
    server
      .next("streamGenerateContent", reply("google-429-quota", { vars: { retryDelay: "0.05s" } }))
      .next("streamGenerateContent", reply("gemini-fine"));
    const events = await streamEvents(provider.stream(request()));
    assert.equal(server.count("streamGenerateContent"), 2);
    assert.deepEqual(events[0], { type: "text", text: "fine" });
  });

  it("tries again when the model makes a malformed function call, rather than end with an empty answer", async () => {
    server
      .next("streamGenerateContent", reply("gemini-malformed-function-call"))
      .next("streamGenerateContent", reply("gemini-fine"));
    const events = await streamEvents(provider.stream(request()));
    assert.equal(server.count("streamGenerateContent"), 2);
    assert.deepEqual(events[0], { type: "text", text: "fine" });
    // Three times malformed (the first try and both retries): the answer fails, with the reason.
    for (let attempt = 0; attempt < 3; attempt++) {
      server.next("streamGenerateContent", reply("gemini-malformed-function-call"));
    }
    await assert.rejects(
      streamEvents(provider.stream(request())),
      (error: unknown) => error instanceof ProviderError && error.reason === "MALFORMED_FUNCTION_CALL",
    );
  });

  it("gives up on a 429 whose suggested delay is too long, with the delay attached", async () => {
    server.next("streamGenerateContent", reply("gemini-429-quota-naming-key", { vars: { apiKey: API_KEY } }));
    const { error } = await streamFailure(provider.stream(request()), API_KEY);
    assert.equal(error.failure, "rate_limited");
    assert.equal(error.retryAfterSeconds, 53);
    assert.equal(server.count("streamGenerateContent"), 1);
    assert.equal(error.toAppError().code, "unavailable");
    assert.doesNotMatch(error.toAppError().message, /quota exceeded|AIza/);
  });

  it("retries 503 up to its limit, then reports the service unavailable", async () => {
    server.setDefault("streamGenerateContent", reply("google-503-unavailable"));
    const { error } = await streamFailure(provider.stream(request()), API_KEY);
    assert.equal(error.failure, "unavailable");
    assert.equal(error.status, 503);
    assert.equal(server.count("streamGenerateContent"), 3);
    server.setDefault("streamGenerateContent", (_, response) => jsonResponse(response, 404, {}));
  });

  it("does not retry an error that arrives mid-stream after text was delivered", async () => {
    server.next("streamGenerateContent", reply("gemini-error-after-partial"));
    const { error, text } = await streamFailure(provider.stream(request()), API_KEY);
    assert.equal(text, "partial ");
    assert.equal(error.failure, "unavailable");
    assert.equal(server.count("streamGenerateContent"), 1);
  });

  it("does not retry a connection dropped mid-stream after text was delivered", async () => {
    server.next("streamGenerateContent", reply("gemini-cut-after-partial"));
    const { error, text } = await streamFailure(provider.stream(request()), API_KEY);
    assert.equal(text, "partial ");
    assert.equal(error.failure, "unavailable");
    assert.equal(server.count("streamGenerateContent"), 1);
  });

  it("reports a blocked prompt as blocked, with the reason, and does not retry", async () => {
    server.next("streamGenerateContent", reply("gemini-prompt-blocked"));
    const { error } = await streamFailure(provider.stream(request()), API_KEY);
    assert.equal(error.failure, "blocked");
    assert.equal(error.reason, "PROHIBITED_CONTENT");
    assert.equal(error.toAppError().code, "blocked");
    assert.equal(server.count("streamGenerateContent"), 1);
  });

  it("reports withheld output (finish reason SAFETY) as blocked", async () => {
    server.next("streamGenerateContent", reply("gemini-output-withheld"));
    const { error, text } = await streamFailure(provider.stream(request()), API_KEY);
    assert.equal(text, "Some ");
    assert.equal(error.failure, "blocked");
    assert.equal(error.reason, "SAFETY");
  });

  it("times out a stream that stalls, without retrying once text was delivered", async () => {
    server.next("streamGenerateContent", reply("gemini-stall-after-first"));
    const started = Date.now();
    const { error, text } = await streamFailure(provider.stream(request()), API_KEY);
    assert.equal(text, "one ");
    assert.equal(error.failure, "timeout");
    assert.ok(Date.now() - started < 3_000);
  });

  it("retries a stall that happens before the first token", async () => {
    server
      .next("streamGenerateContent", reply("gemini-stall-before-first"))
      .next("streamGenerateContent", reply("gemini-second-try"));
    const events = await streamEvents(provider.stream(request()));
    assert.deepEqual(events[0], { type: "text", text: "second try" });
    assert.equal(server.count("streamGenerateContent"), 2);
  });

  it("stops at once when the caller aborts, reporting aborted", async () => {
    server.next("streamGenerateContent", reply("gemini-four-pieces", { delayMs: 300 }));
    const controller = new AbortController();
    const events = provider.stream(request({ signal: controller.signal }));
    let text = "";
    const outcome = (async () => {
      for await (const event of events) {
        if (event.type === "text") {
          text += event.text;
          controller.abort();
        }
      }
    })();
    await assert.rejects(outcome, (error: unknown) => error instanceof ProviderError && error.failure === "aborted");
    assert.equal(text, "a ");
  });

  it("treats a refused request (400) as final", async () => {
    server.next("streamGenerateContent", reply("google-400-invalid-argument"));
    const { error } = await streamFailure(provider.stream(request()), API_KEY);
    assert.equal(error.failure, "rejected");
    assert.equal(server.count("streamGenerateContent"), 1);
  });
});
