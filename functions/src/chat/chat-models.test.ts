import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { TINY_PNG } from "../test-support/media-fixtures.ts";
import { startApiServer, type ApiServer } from "../test-support/api-server.ts";
import { authEmulator, type TestUser } from "../test-support/auth-emulator.ts";
import {
  echoStream,
  googleError,
  jsonResponse,
  openAiChunks,
  ProviderWireServer,
  streamChunks,
  streamOpenAi,
  textChunks,
} from "../test-support/provider-wire-server.ts";
import { openSse, type SseSession } from "../test-support/sse-client.ts";
import { paths } from "../store/paths.ts";
import { queries } from "../store/queries.ts";
import type { ChatRecord, MessageRecord } from "../store/records.ts";

/**
 * Models in chat, through the real `api` handler and the real Gemini adapter against a local Gemini wire-format
 * server: Gemini 3 thought summaries, the model a request may pick, and fallback along a model chain.
 */
describe("chat with current models: thoughts, model choice and fallback", function () {
  this.timeout(30_000);
  const KEY = "AIzaFakeKeyForModelTests";
  let gemini: ProviderWireServer;
  let server: ApiServer;
  let alice: TestUser;

  before(async () => {
    gemini = await ProviderWireServer.start();
    gemini.setDefault("streamGenerateContent", echoStream());
    server = await startApiServer({
      GEMINI_API_KEY: KEY,
      GEMINI_ENDPOINT: gemini.url,
      STREAM_UPDATE_INTERVAL_MS: "100",
      PROVIDER_TIMEOUT_SECONDS: "5",
      RATE_LIMIT_RPM: "6000",
      RATE_LIMIT_BURST: "1000",
      RATE_LIMIT_FREE: "0",
      DEFAULT_MODEL: "gemini-3.8-flash",
      TEXT_FALLBACK_MODELS: "gemini-3.5-flash-lite,gemini-3.6-flash,llama3.3",
      OPENAI_COMPATIBLE_BASE_URL: `${gemini.url}/v1`,
      OPENAI_COMPATIBLE_MODELS: "llama3.3",
      ALLOWED_MODELS: "llama3.3",
      THINKING_LEVEL: "low",
    });
    alice = await (await authEmulator()).createUser();
  });
  after(async () => {
    await server.close();
    await gemini.close();
  });
  beforeEach(() => gemini.reset());

  const headers = () => ({ Authorization: `Bearer ${alice.idToken}`, "Content-Type": "application/json" });
  const chat = (body: unknown) =>
    openSse(`${server.url}/chat/stream`, { method: "POST", headers: headers(), body: JSON.stringify(body) });
  const resume = (messageId: string, lastEventId: string) =>
    openSse(`${server.url}/chat/stream/${messageId}`, { headers: { ...headers(), "Last-Event-ID": lastEventId } });
  const messageId = (session: SseSession) => session.events[0]?.json<{ message_id: string }>().message_id ?? "";
  const stored = async (id: string) =>
    (await server.services.database.get<MessageRecord>(paths.message(alice.uid, id)))?.data;
  const rateLimited = (delay = "60s") => googleError(429, "RESOURCE_EXHAUSTED", "quota", delay);

  const answerWithThoughts = [
    { candidates: [{ content: { parts: [{ text: "Considering the ", thought: true }], role: "model" } }] },
    { candidates: [{ content: { parts: [{ text: "question.", thought: true }], role: "model" } }] },
    { candidates: [{ content: { parts: [{ text: "Forty" }], role: "model" } }] },
    {
      candidates: [{ content: { parts: [{ text: "-two." }], role: "model" }, finishReason: "STOP" }],
      usageMetadata: {
        promptTokenCount: 30,
        cachedContentTokenCount: 24,
        candidatesTokenCount: 3,
        thoughtsTokenCount: 11,
      },
      modelVersion: "gemini-3.8-flash",
    },
  ];

  describe("thought summaries", () => {
    it('streams thinking events before the answer when "thinking" is true, outside the content offset', async () => {
      gemini.next("streamGenerateContent", (_, response) => streamChunks(response, answerWithThoughts));
      const session = await chat({ message: "what is six times seven?", thinking: true });
      await session.finished;
      const names = session.events.map((event) => event.event);
      assert.deepEqual(names, ["meta", "thinking", "thinking", "token", "token", "done"]);
      assert.deepEqual(
        session.events.filter((event) => event.event === "thinking").map((event) => [event.json().text, event.id]),
        [
          ["Considering the ", "0"],
          ["question.", "0"],
        ],
      );
      assert.deepEqual(
        session.events.filter((event) => event.event === "token").map((event) => event.id),
        ["5", "10"],
      );
      const done = session.events.at(-1)?.json();
      assert.equal(done?.model, "gemini-3.8-flash");
      // Gemini 3.8 Flash: 6 fresh in at $0.75/M, 24 cached at $0.075/M, 3 out and 11 thinking at $3.75/M:
      // 4.5 + 1.8 + 52.5 = 58.8 micro-dollars, rounded up once.
      assert.deepEqual(done.usage, {
        input_tokens: 30,
        output_tokens: 3,
        thinking_tokens: 11,
        cached_tokens: 24,
        cost_usd: 0.000059,
      });
      const body = gemini.requests[0]?.body as { generationConfig?: { thinkingConfig?: unknown } };
      assert.deepEqual(body.generationConfig?.thinkingConfig, { thinkingLevel: "LOW", includeThoughts: true });
    });

    it("stores the thought summary apart from the content, and never logs it", async () => {
      gemini.next("streamGenerateContent", (_, response) => streamChunks(response, answerWithThoughts));
      const session = await chat({ message: "what is six times seven?", thinking: true });
      await session.finished;
      const message = await stored(messageId(session));
      assert.equal(message?.content, "Forty-two.");
      assert.equal(message.thinking, "Considering the question.");
      assert.ok(!server.logLines.some((line) => line.includes("Considering")), "thoughts never reach the logs");
    });

    it("replays the thoughts to a client resuming from offset 0, and not to one that has content", async () => {
      gemini.next("streamGenerateContent", (_, response) => streamChunks(response, answerWithThoughts));
      const first = await chat({ message: "what is six times seven?", thinking: true });
      await first.finished;
      const fromStart = await resume(messageId(first), "0");
      await fromStart.finished;
      assert.deepEqual(
        fromStart.events.map((event) => event.event),
        ["meta", "thinking", "token", "done"],
      );
      assert.equal(fromStart.events[1]?.json().text, "Considering the question.");
      const midway = await resume(messageId(first), "5");
      await midway.finished;
      assert.deepEqual(
        midway.events.map((event) => event.event),
        ["meta", "token", "done"],
      );
      assert.equal(midway.events[1]?.json().text, "-two.");
    });

    it("asks for no thoughts, and streams none, by default", async () => {
      gemini.next("streamGenerateContent", (_, response) => streamChunks(response, answerWithThoughts));
      const session = await chat({ message: "what is six times seven?" });
      await session.finished;
      assert.ok(!session.events.some((event) => event.event === "thinking"));
      const body = gemini.requests[0]?.body as { generationConfig?: { thinkingConfig?: unknown } };
      assert.deepEqual(body.generationConfig?.thinkingConfig, { thinkingLevel: "LOW" });
      assert.equal((await stored(messageId(session)))?.thinking, undefined);
    });
  });

  describe("idempotency across a change of default", () => {
    it("replays a request that named no model after the default model changed", async () => {
      const first = await chat({ message: "remember me", request_id: "req-default-change" });
      await first.finished;
      const directory = server.config.embeddedDataDirectory;
      const later = await startApiServer({
        GEMINI_API_KEY: KEY,
        GEMINI_ENDPOINT: gemini.url,
        EMBEDDED_DATA_DIR: directory,
        DEFAULT_MODEL: "gemini-3.6-flash",
        RATE_LIMIT_FREE: "0",
      });
      try {
        const replay = await openSse(`${later.url}/chat/stream`, {
          method: "POST",
          headers: headers(),
          body: JSON.stringify({ message: "remember me", request_id: "req-default-change" }),
        });
        await replay.finished;
        assert.equal(replay.status, 200, JSON.stringify(replay.errorBody));
        assert.equal(replay.events[0]?.json().resumed, true);
      } finally {
        await later.close();
      }
    });
  });

  describe("model choice", () => {
    const refused = async (body: Record<string, unknown>) => {
      const before = await server.services.database.query<ChatRecord>(queries.chatsByActivity(alice.uid, 1000));
      const session = await chat({ message: "hi", ...body });
      assert.equal(session.status, 400);
      const after = await server.services.database.query<ChatRecord>(queries.chatsByActivity(alice.uid, 1000));
      assert.equal(after.length, before.length, "nothing is written for a refused model");
      assert.equal(gemini.count("streamGenerateContent"), 0);
      return session.errorBody as { error: { code: string; details: { fields: Record<string, string> } } };
    };

    it("refuses a retired model with 400 before anything is written", async () => {
      const body = await refused({ model: "gemini-2.5-flash" });
      assert.equal(body.error.code, "invalid_argument");
      assert.match(body.error.details.fields.model ?? "", /gemini-3\.8-flash/);
    });

    it("refuses an unknown model, and a model of another kind", async () => {
      await refused({ model: "gpt-imaginary" });
      await refused({ model: "gemini-nano-banana-2.1" });
    });

    it("refuses attachments for a model that takes no images", async () => {
      const body = await refused({
        model: "llama3.3",
        attachments: [{ path: `users/${alice.uid}/uploads/a.png`, mime_type: "image/png" }],
      });
      assert.match(body.error.details.fields.attachments ?? "", /llama3\.3 takes no images/);
    });
  });

  describe("fallback", () => {
    it("answers from the next model when the first fails before its first token, and records both", async () => {
      gemini
        .next("streamGenerateContent", (_, response) => jsonResponse(response, 429, rateLimited()))
        .next("streamGenerateContent", echoStream());
      const session = await chat({ message: "are you there?" });
      await session.finished;
      assert.deepEqual(
        gemini.requests.map((request) => request.model),
        ["gemini-3.8-flash", "gemini-3.5-flash-lite"],
      );
      assert.equal(session.events[0]?.json().model, "gemini-3.8-flash", "meta names the model asked for");
      const done = session.events.at(-1);
      assert.equal(done?.event, "done");
      assert.equal(done.json().model, "gemini-3.5-flash-lite");
      const message = await stored(messageId(session));
      assert.equal(message?.model, "gemini-3.5-flash-lite");
      assert.equal(message.fallback_from, "gemini-3.8-flash");
      assert.match(message.content, /are you there/);
      const line = server
        .logs()
        .find((entry) => entry.message === "model failed; trying the next in its fallback chain");
      assert.equal(line?.model, "gemini-3.8-flash");
      assert.equal(line.next_model, "gemini-3.5-flash-lite");
      assert.ok(!server.logLines.some((logged) => logged.includes(KEY)));
    });

    it("falls back when the model is gone (404), but not when the prompt is blocked", async () => {
      gemini
        .next("streamGenerateContent", (_, response) =>
          jsonResponse(response, 404, googleError(404, "NOT_FOUND", "models/gemini-3.8-flash is not found")),
        )
        .next("streamGenerateContent", echoStream());
      const moved = await chat({ message: "still here?" });
      await moved.finished;
      assert.equal(moved.events.at(-1)?.json().model, "gemini-3.5-flash-lite");

      gemini.reset();
      gemini.next("streamGenerateContent", (_, response) =>
        streamChunks(response, [{ promptFeedback: { blockReason: "SAFETY" }, usageMetadata: {} }]),
      );
      const blocked = await chat({ message: "something refused" });
      await blocked.finished;
      assert.equal(blocked.events.at(-1)?.json().code, "blocked");
      assert.equal(gemini.count("streamGenerateContent"), 1, "a safety block is not retried on another model");
    });

    it("skips fallbacks that cannot take the request's images", async () => {
      const upload = await fetch(`${server.url}/uploads`, {
        method: "POST",
        headers: headers(),
        body: JSON.stringify({ data: TINY_PNG.toString("base64"), mime_type: "image/png" }),
      });
      const { path } = (await upload.json()) as { path: string };
      gemini.setDefault("streamGenerateContent", (_, response) => jsonResponse(response, 429, rateLimited()));
      try {
        const session = await chat({
          message: "what is in this picture?",
          attachments: [{ path, mime_type: "image/png" }],
        });
        await session.finished;
        assert.equal(session.events.at(-1)?.json().code, "unavailable");
        assert.equal(gemini.count("chatCompletions"), 0, "llama3.3 takes no images, so it is not asked");
        assert.equal(gemini.count("streamGenerateContent"), 3);
      } finally {
        gemini.setDefault("streamGenerateContent", echoStream());
      }
    });

    it("never switches model once the answer has started", async () => {
      gemini.next("streamGenerateContent", async (_, response) => {
        response.writeHead(200, { "Content-Type": "text/event-stream" });
        response.write(`data: ${JSON.stringify(textChunks(["Partial "])[0])}\r\n\r\n`);
        await sleep(50);
        response.write(`data: ${JSON.stringify(googleError(503, "UNAVAILABLE", "overloaded"))}\r\n\r\n`);
        response.end();
      });
      const session = await chat({ message: "start then fail" });
      await session.finished;
      assert.equal(session.events.at(-1)?.event, "error");
      assert.equal(session.events.at(-1)?.json().code, "unavailable");
      assert.equal(gemini.count("streamGenerateContent"), 1);
      const message = await stored(messageId(session));
      assert.equal(message?.status, "error");
      assert.equal(message.content, "Partial ");
    });

    it("crosses vendors: an OpenAI-compatible model answers when every Gemini model is busy", async () => {
      gemini.setDefault("streamGenerateContent", (_, response) => jsonResponse(response, 429, rateLimited()));
      gemini.next("chatCompletions", (_, response) => streamOpenAi(response, openAiChunks(["Here ", "I am."])));
      try {
        const session = await chat({ message: "anyone?" });
        await session.finished;
        assert.equal(session.events.at(-1)?.json().model, "llama3.3");
        const message = await stored(messageId(session));
        assert.equal(message?.content, "Here I am.");
        assert.equal(message.fallback_from, "gemini-3.8-flash");
        assert.equal(message.provider, "live");
        const sent = gemini.requests.find((request) => request.kind === "chatCompletions")?.body as {
          model: string;
          messages: { role: string; content: string }[];
        };
        assert.equal(sent.model, "llama3.3");
        assert.equal(sent.messages.at(-1)?.content, "anyone?");
      } finally {
        gemini.setDefault("streamGenerateContent", echoStream());
      }
    });

    it("ends the message unavailable when every model of the chain fails, naming the models in the log", async () => {
      gemini.setDefault("streamGenerateContent", (_, response) => jsonResponse(response, 429, rateLimited()));
      const busy = { error: { message: "busy", type: "server_error", code: null } };
      // The openai SDK retries a 503 once before giving up.
      gemini
        .next("chatCompletions", (_, response) => jsonResponse(response, 503, busy))
        .next("chatCompletions", (_, response) => jsonResponse(response, 503, busy));
      try {
        const session = await chat({ message: "anyone?" });
        await session.finished;
        assert.equal(session.events.at(-1)?.json().code, "unavailable");
        assert.deepEqual(
          gemini.requests.map((request) => request.model ?? (request.body as { model: string }).model),
          ["gemini-3.8-flash", "gemini-3.5-flash-lite", "gemini-3.6-flash", "llama3.3", "llama3.3"],
        );
        const message = await stored(messageId(session));
        assert.equal(message?.status, "error");
        assert.equal(message.error_code, "unavailable");
        const line = server.logs().findLast((entry) => entry.message === "every model of the fallback chain failed");
        assert.deepEqual(line?.models_tried, [
          "gemini-3.8-flash",
          "gemini-3.5-flash-lite",
          "gemini-3.6-flash",
          "llama3.3",
        ]);
      } finally {
        gemini.setDefault("streamGenerateContent", echoStream());
      }
    });
  });
});
