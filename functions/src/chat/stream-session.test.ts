import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import {
  openChatCore,
  removeDirectory,
  temporaryDirectory,
  TEST_CHAT_OPTIONS,
  testUser,
  type ChatCore,
} from "../test-support/chat-core.ts";
import { openCleanupCore, type CleanupCore } from "../test-support/cleanup-core.ts";
import {
  echoStream,
  googleError,
  jsonResponse,
  lastUserText,
  ProviderWireServer,
  streamChunks,
  textChunks,
} from "../test-support/provider-wire-server.ts";
import { RecordingSink } from "../test-support/recording-sink.ts";
import { until } from "../test-support/until.ts";
import { paths } from "../store/paths.ts";
import type { ChatRecord, MessageRecord, RequestRecord } from "../store/records.ts";
import { aliveIntervalMs } from "./chat-service.ts";
import { jpegWithExif, patternedPng } from "../test-support/test-images.ts";
import { inspectImage } from "../media/image-inspection.ts";
import { AppError } from "../errors/app-error.ts";

/**
 * An answer being generated (`StreamSession`, started by `ChatService`), in this process: the real Gemini adapter
 * against a local Gemini wire-format server, the embedded store, and in-memory clients. With the test options
 * the store is written every 100 ms, `alive_at` renewed every 333 ms (a third of 1 s of staleness), and an answer
 * nobody follows is given up half a second after its client left.
 */
describe("an answer being generated", function () {
  this.timeout(30_000);
  let gemini: ProviderWireServer;
  let directory: string;
  let core: ChatCore;
  let sweeper: CleanupCore;
  const alice = testUser("alice-session");

  before(async () => {
    gemini = await ProviderWireServer.start();
    gemini.setDefault("streamGenerateContent", echoStream());
    directory = temporaryDirectory();
    core = await openChatCore({ directory, gemini });
    sweeper = await openCleanupCore({
      database: core.database,
      blobs: core.blobs,
      options: {
        batchSize: 200,
        requestRetentionMs: 7 * 86_400_000,
        // The staleness the generator renews alive_at against.
        staleStreamMs: timing.staleMs,
        mediaRetentionMs: 0,
        uploadRetentionMs: 30 * 86_400_000,
        delivery: { maxAttempts: 5, dispatchGraceMs: 600_000 },
      },
    });
  });
  after(async () => {
    await core.close();
    await gemini.close();
    removeDirectory(directory);
  });
  beforeEach(() => gemini.reset());

  const { timing } = TEST_CHAT_OPTIONS;
  const stored = async (messageId: string) =>
    (await core.database.get<MessageRecord>(paths.message(alice.uid, messageId)))?.data;
  const messagesOfChat = async (chatId: string) =>
    (
      await core.database.query<MessageRecord>({
        collection: paths.messages(alice.uid),
        where: [{ field: "chat_id", op: "==", value: chatId }],
      })
    )
      .map((document) => document.data)
      .sort((one, other) => one.seq - other.seq);

  /** Scripts the next answer as `count` pieces `delayMs` apart; `closedEarly` tells whether the call was cut. */
  const slowAnswer = (count: number, delayMs: number) => {
    const pieces = Array.from({ length: count }, (_, index) => `part${String(index)} `);
    let closedEarly = false;
    gemini.next("streamGenerateContent", async (_, response) => {
      response.once("close", () => (closedEarly = !response.writableFinished));
      await streamChunks(response, textChunks(pieces), { delayMs });
    });
    return { full: pieces.join(""), closedEarly: () => closedEarly };
  };

  describe("to its client", () => {
    it("sends meta first, then tokens whose offsets count the characters delivered, then done", async () => {
      const answer = await core.ask(alice, { message: "hello there", request_id: "session-hello-1" });
      await answer.streamed;
      const { sink } = answer;
      await sink.ended;
      const names = sink.names();
      assert.equal(names[0], "meta");
      assert.equal(names.at(-1), "done");
      assert.ok(names.slice(1, -1).every((name) => name === "token"));
      assert.deepEqual(sink.meta(), {
        chat_id: answer.chatId,
        message_id: answer.messageId,
        request_id: "session-hello-1",
        model: "gemini-3.8-flash",
        grounding: false,
        resumed: false,
      });
      assert.equal(sink.events[0]?.offset, 0);
      let delivered = 0;
      for (const token of sink.of("token")) {
        delivered += token.data.text.length;
        assert.equal(token.offset, delivered);
      }
      assert.equal(sink.text(), "You said: hello there. That is all.");
      const done = sink.of("done")[0];
      assert.equal(done?.offset, delivered);
      assert.equal(done.data.message_id, answer.messageId);
      assert.equal(done.data.status, "done");
      assert.equal(done.data.finish_reason, "STOP");
      assert.equal(done.data.model, "gemini-3.8-flash");
      assert.equal(typeof done.data.latency_ms, "number");
      assert.deepEqual(done.data.usage, { input_tokens: 7, output_tokens: 6, cost_usd: 0.000028 });
    });

    it("stores the chat, the question and the finished answer with its model, usage and latency", async () => {
      const answer = await core.ask(alice, { message: "Plan a picnic\nwith details", request_id: "session-store-1" });
      await answer.streamed;
      const chat = await core.database.get<ChatRecord>(paths.chat(alice.uid, answer.chatId));
      assert.equal(chat?.data.title, "Plan a picnic");
      const [question, reply, ...rest] = await messagesOfChat(answer.chatId);
      assert.equal(rest.length, 0);
      assert.deepEqual([question?.role, question?.type, question?.status], ["user", "text", "done"]);
      assert.equal(question?.content, "Plan a picnic\nwith details");
      assert.deepEqual([reply?.role, reply?.type, reply?.status], ["assistant", "text", "done"]);
      assert.equal(reply?.message_id, answer.messageId);
      assert.equal(reply.content, answer.sink.text());
      assert.equal(reply.model, "gemini-3.8-flash");
      assert.equal(reply.provider, "live");
      assert.equal(reply.finish_reason, "STOP");
      // Stored in micro-dollars, and the reservation it held gone (settled when the answer ended).
      assert.deepEqual(reply.usage, { input_tokens: 7, output_tokens: 6, cost_micros: 28 });
      assert.equal(reply.charge, undefined);
      assert.equal(typeof reply.latency_ms, "number");
      const request = (await core.database.get<RequestRecord>(paths.request(alice.uid, "session-store-1")))?.data;
      assert.equal(request?.status, "done");
      assert.equal(request.message_id, answer.messageId);
      assert.equal(
        request.expire_at.getTime() - request.created_at.getTime(),
        TEST_CHAT_OPTIONS.requestRetentionDays * 86_400_000,
        "the request_id is remembered for the retention period",
      );
    });

    it("sends the model the system instruction and the earlier turns of the chat", async () => {
      const first = await core.ask(alice, { message: "first question" });
      await first.streamed;
      const second = await core.ask(alice, { message: "second question", chat_id: first.chatId });
      await second.streamed;
      const body = gemini.requests.at(-1)?.body as {
        contents: { role: string }[];
        systemInstruction: { parts: { text: string }[] };
      };
      assert.deepEqual(
        body.contents.map((content) => content.role),
        ["user", "model", "user"],
      );
      assert.equal(lastUserText(body), "second question");
      assert.equal(body.systemInstruction.parts[0]?.text, TEST_CHAT_OPTIONS.systemInstruction);
      assert.equal((await messagesOfChat(first.chatId)).length, 4);
    });

    it("uses an allowed model other than the default when asked", async () => {
      const answer = await core.ask(alice, { message: "hi", model: "gemini-4-hydrogen" });
      await answer.streamed;
      assert.equal(gemini.requests.at(-1)?.model, "gemini-4-hydrogen");
      assert.equal(answer.sink.meta().model, "gemini-4-hydrogen");
    });

    it("sends the caller's own image attachment to the model, upright and without its metadata", async () => {
      // As a client uploading straight to Storage leaves it: the camera's EXIF, GPS position and orientation.
      const photo = await jpegWithExif(40, 20);
      await core.blobs.put(`users/${alice.uid}/uploads/photo.jpg`, photo, "image/jpeg");
      const answer = await core.ask(alice, {
        message: "what is this?",
        attachments: [{ path: `users/${alice.uid}/uploads/photo.jpg`, mime_type: "image/jpeg" }],
      });
      await answer.streamed;
      assert.equal(answer.sink.last()?.event, "done");
      const body = gemini.requests.at(-1)?.body as {
        contents: { parts: { inlineData?: { data: string; mimeType: string } }[] }[];
      };
      const sent = body.contents.at(-1)?.parts[1]?.inlineData;
      assert.equal(sent?.mimeType, "image/jpeg");
      const bytes = Buffer.from(sent.data, "base64");
      assert.deepEqual(inspectImage(bytes), { mimeType: "image/jpeg", width: 20, height: 40 }, "turned upright");
      assert.ok(!bytes.includes("AtelierTestCam") && !bytes.includes("Exif"), "no EXIF left");
    });

    it("refuses a truncated image attachment before anything is written", async () => {
      const whole = await patternedPng(32, 32);
      await core.blobs.put(`users/${alice.uid}/uploads/cut.png`, whole.subarray(0, whole.length - 40), "image/png");
      const before = gemini.requests.length;
      await assert.rejects(
        core.ask(alice, {
          message: "what is this?",
          attachments: [{ path: `users/${alice.uid}/uploads/cut.png`, mime_type: "image/png" }],
        }),
        (error: unknown) => error instanceof AppError && error.code === "invalid_argument",
      );
      assert.equal(gemini.requests.length, before);
    });
  });

  describe("into the store", () => {
    it("writes the content at most once per update interval while streaming, and once at the end", async () => {
      const pieces = Array.from({ length: 40 }, (_, index) => `w${String(index)} `);
      gemini.next("streamGenerateContent", (_, response) =>
        streamChunks(response, textChunks(pieces), { delayMs: 25 }),
      );
      const started = Date.now();
      const answer = await core.ask(alice, { message: "a long answer please" });
      await answer.streamed;
      const duration = Date.now() - started;
      const writes = core.database.writesTo(paths.message(alice.uid, answer.messageId));
      const budget = Math.ceil(duration / timing.updateIntervalMs) + 2;
      assert.ok(writes <= budget, `${String(writes)} writes for ${String(duration)} ms (budget ${String(budget)})`);
      assert.ok(writes >= 3, `expected interim writes, saw ${String(writes)}`);
      assert.ok(writes < pieces.length / 2, "never a write per token");
      assert.equal((await stored(answer.messageId))?.content, pieces.join(""));
    });

    it("leaves updated_at alone while streaming and renews alive_at coarsely, the sweep index's only moving field", async () => {
      const pieces = Array.from({ length: 30 }, (_, index) => `p${String(index)} `);
      gemini.next("streamGenerateContent", (_, response) =>
        streamChunks(response, textChunks(pieces), { delayMs: 50 }),
      );
      const answer = await core.ask(alice, { message: "watch the fields" });
      await answer.sink.waitFor((event) => event.event === "token");
      const seen: { updated: number; alive: number }[] = [];
      let ended = false;
      void answer.streamed.then(() => (ended = true));
      while (!ended) {
        const current = await stored(answer.messageId);
        if (current?.status === "streaming") {
          seen.push({ updated: current.updated_at.getTime(), alive: current.alive_at?.getTime() ?? 0 });
        }
        await sleep(50);
      }
      await answer.streamed;
      assert.ok(seen.length > 5);
      assert.equal(new Set(seen.map((sample) => sample.updated)).size, 1, "updated_at moves only at the end");
      const alive = [...new Set(seen.map((sample) => sample.alive))];
      assert.ok(alive.length >= 3, `alive_at renewed while streaming: ${JSON.stringify(alive)}`);
      // Staleness is 1 s here, so alive_at is renewed every 333 ms (every 30 s in production).
      for (let index = 1; index < alive.length; index++) {
        const step = (alive[index] ?? 0) - (alive[index - 1] ?? 0);
        assert.ok(step >= aliveIntervalMs(timing.staleMs), `alive_at steps: ${JSON.stringify(alive)}`);
      }
    });

    it("keeps a live answer alive while the model is silent longer than the staleness window", async () => {
      gemini.next("streamGenerateContent", async (_, response) => {
        await sleep(timing.staleMs + 300);
        await streamChunks(response, textChunks(["late ", "but ", "here"]));
      });
      const answer = await core.ask(alice, { message: "think hard first" });
      await answer.sink.waitFor((event) => event.event === "meta");
      const follower = new RecordingSink();
      const following = core.chat.follow(alice.uid, await core.chat.message(alice.uid, answer.messageId), 0, follower);
      const swept = await until(
        async () => {
          await sweeper.cleanup.sweep();
          return stored(answer.messageId);
        },
        (message) => message?.status !== "streaming",
        { timeoutMs: 10_000 },
      );
      assert.equal(swept?.status, "done", "neither the sweep nor the follower ended it");
      await following;
      assert.equal(follower.last()?.event, "done");
      await answer.streamed;
    });

    it("keeps the thought summary apart: thinking events at the content offset reached, stored in `thinking`", async () => {
      const chunks = [
        { candidates: [{ content: { parts: [{ text: "Considering the ", thought: true }], role: "model" } }] },
        { candidates: [{ content: { parts: [{ text: "question.", thought: true }], role: "model" } }] },
        { candidates: [{ content: { parts: [{ text: "Forty" }], role: "model" } }] },
        {
          candidates: [{ content: { parts: [{ text: "-two." }], role: "model" }, finishReason: "STOP" }],
          usageMetadata: { promptTokenCount: 30, candidatesTokenCount: 3, thoughtsTokenCount: 11 },
          modelVersion: "gemini-3.8-flash",
        },
      ];
      gemini.next("streamGenerateContent", (_, response) => streamChunks(response, chunks, { delayMs: 150 }));
      const answer = await core.ask(alice, { message: "what is six times seven?", thinking: true });
      const interim = await until(
        () => stored(answer.messageId),
        (message) => message?.thinking !== undefined || message?.status !== "streaming",
      );
      assert.equal(interim?.status, "streaming");
      assert.ok(!interim.content.includes("Considering"), "thoughts never go into the content");
      await answer.streamed;
      const { sink } = answer;
      assert.deepEqual(sink.names(), ["meta", "thinking", "thinking", "token", "token", "done"]);
      assert.deepEqual(
        sink.of("thinking").map((event) => [event.data.text, event.offset]),
        [
          ["Considering the ", 0],
          ["question.", 0],
        ],
      );
      assert.deepEqual(
        sink.of("token").map((event) => event.offset),
        [5, 10],
      );
      assert.deepEqual(sink.of("done")[0]?.data.usage, {
        input_tokens: 30,
        output_tokens: 3,
        thinking_tokens: 11,
        cost_usd: 0.000075,
      });
      const message = await stored(answer.messageId);
      assert.equal(message?.content, "Forty-two.");
      assert.equal(message.thinking, "Considering the question.");
    });
  });

  describe("when its client leaves", () => {
    it("goes on, so a resume within the grace period gets the rest of the answer from its offset", async () => {
      const { full } = slowAnswer(12, 80);
      const answer = await core.ask(alice, { message: "long story" });
      const second = await answer.sink.waitFor((event) => event.event === "token" && event.offset > 10);
      answer.sink.disconnect();
      const received = answer.sink.text();
      await sleep(timing.graceMs / 2);
      const resumed = new RecordingSink();
      await core.chat.follow(alice.uid, await core.chat.message(alice.uid, answer.messageId), second.offset, resumed);
      assert.equal(resumed.meta().resumed, true);
      assert.equal(resumed.events[0]?.offset, second.offset);
      assert.equal(received + resumed.text(), full);
      assert.equal(resumed.last()?.event, "done");
      await answer.streamed;
      assert.equal((await stored(answer.messageId))?.status, "done");
    });

    it("aborts the model call and keeps the partial answer when nobody resumes within the grace period", async () => {
      const { full, closedEarly } = slowAnswer(40, 150);
      const answer = await core.ask(alice, { message: "abandon me" });
      await answer.sink.waitFor((event) => event.event === "token");
      answer.sink.disconnect();
      const ended = await until(
        () => stored(answer.messageId),
        (message) => message?.status !== "streaming",
      );
      assert.equal(ended?.status, "aborted");
      assert.match(ended.error ?? "", /disconnected/);
      assert.ok(ended.content.length > 0 && ended.content.length < full.length);
      assert.ok(full.startsWith(ended.content), "the stored part is a prefix of the answer");
      await until(
        () => Promise.resolve(closedEarly()),
        (closed) => closed,
      );
      const request = await core.database.get<RequestRecord>(paths.request(alice.uid, ended.request_id));
      assert.equal(request?.data.status, "aborted");
      await answer.streamed;
    });
  });

  describe("stopped", () => {
    it("stops at once when it runs in this process; its stream ends with an aborted error and keeps what was sent", async () => {
      slowAnswer(40, 150);
      const answer = await core.ask(alice, { message: "stop me" });
      await answer.sink.waitFor((event) => event.event === "token");
      assert.equal(await core.chat.stop(alice.uid, answer.messageId), "aborted");
      await answer.streamed;
      const last = answer.sink.last();
      assert.equal(last?.event, "error");
      assert.equal(last.data.code, "aborted");
      const message = await stored(answer.messageId);
      assert.equal(message?.status, "aborted");
      assert.equal(message.content, answer.sink.text());
      assert.equal(message.error, "Stopped by the user.");
    });
  });

  describe("across instances (a second chat core on the same data, as another Cloud Functions instance)", () => {
    let other: ChatCore;

    before(async () => {
      other = await openChatCore({ directory, gemini });
    });
    after(async () => {
      await other.close();
    });

    it("stops when another instance sets the stop flag, within an update interval", async () => {
      slowAnswer(40, 100);
      const answer = await core.ask(alice, { message: "stop me from elsewhere" });
      await answer.sink.waitFor((event) => event.event === "token");
      const started = Date.now();
      assert.equal(await other.chat.stop(alice.uid, answer.messageId), "aborted");
      assert.ok(Date.now() - started < timing.updateIntervalMs * 3 + 1_000, "the generator noticed on its next write");
      await answer.streamed;
      const last = answer.sink.last();
      assert.equal(last?.event === "error" ? last.data.code : last?.event, "aborted");
      assert.equal((await stored(answer.messageId))?.content, answer.sink.text());
    });

    it("keeps generating past the grace period while a client follows it from another instance", async () => {
      const { full } = slowAnswer(16, 100);
      const answer = await core.ask(alice, { message: "follow me elsewhere" });
      await answer.sink.waitFor((event) => event.event === "token");
      const follower = new RecordingSink();
      const following = other.chat.follow(
        alice.uid,
        await other.chat.message(alice.uid, answer.messageId),
        0,
        follower,
      );
      await follower.waitFor((event) => event.event === "token");
      answer.sink.disconnect();
      await following;
      assert.equal(follower.last()?.event, "done", "generation outlived the grace period");
      assert.equal(follower.text(), full);
      await answer.streamed;
      assert.equal((await stored(answer.messageId))?.status, "done");
    });

    it("ends, on a stop, a message whose generator died, keeping its partial content", async () => {
      const at = new Date();
      await core.database.set(paths.message(alice.uid, "msg-orphan-stop"), {
        message_id: "msg-orphan-stop",
        chat_id: "chat-orphaned",
        seq: 2,
        role: "assistant",
        type: "text",
        content: "half an ans",
        status: "streaming",
        request_id: "req-msg-orphan-stop",
        created_at: at,
        updated_at: at,
      } satisfies MessageRecord);
      assert.equal(await other.chat.stop(alice.uid, "msg-orphan-stop"), "aborted");
      const message = await stored("msg-orphan-stop");
      assert.equal(message?.status, "aborted");
      assert.equal(message.content, "half an ans");
    });
  });

  describe("when the provider fails", () => {
    it("reports an unavailable model as an error event and error documents", async () => {
      gemini.setDefault("streamGenerateContent", (_, response) =>
        jsonResponse(response, 503, googleError(503, "UNAVAILABLE", "overloaded")),
      );
      try {
        const answer = await core.ask(alice, { message: "are you there?" });
        await answer.streamed;
        const last = answer.sink.last();
        assert.equal(last?.event, "error");
        assert.equal(last.data.code, "unavailable");
        const message = await stored(answer.messageId);
        assert.equal(message?.status, "error");
        assert.equal(message.error_code, "unavailable");
        assert.match(message.error ?? "", /unavailable/);
        const request = await core.database.get<RequestRecord>(paths.request(alice.uid, message.request_id));
        assert.equal(request?.data.status, "error");
        assert.equal(typeof request.data.error, "string");
      } finally {
        gemini.setDefault("streamGenerateContent", echoStream());
      }
    });

    it("reports a safety block with the blocked code and a user-safe message", async () => {
      gemini.next("streamGenerateContent", (_, response) =>
        streamChunks(response, [{ promptFeedback: { blockReason: "SAFETY" } }]),
      );
      const answer = await core.ask(alice, { message: "something unsafe" });
      await answer.streamed;
      const last = answer.sink.last();
      assert.equal(last?.event, "error");
      assert.equal(last.data.code, "blocked");
      assert.match(last.data.message, /safety/);
      assert.equal((await stored(answer.messageId))?.error_code, "blocked");
    });
  });
});
