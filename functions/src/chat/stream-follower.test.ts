import assert from "node:assert/strict";
import {
  openChatCore,
  removeDirectory,
  temporaryDirectory,
  TEST_CHAT_OPTIONS,
  testUser,
  type ChatCore,
} from "../test-support/chat-core.ts";
import { ProviderWireServer, streamChunks, textChunks } from "../test-support/provider-wire-server.ts";
import { RecordingSink } from "../test-support/recording-sink.ts";
import { until } from "../test-support/until.ts";
import { paths } from "../store/paths.ts";
import type { MessageRecord } from "../store/records.ts";
import { finishMessage } from "./finish-message.ts";

/**
 * Following an answer (`ChatService.follow`, the stream follower): a replay from a content offset, then the
 * answer live until it ends, from any instance, with the message document as the only source of truth. Most
 * answers here are written into the store by the test, as a generator elsewhere would write them.
 */
describe("following an answer", function () {
  this.timeout(30_000);
  let gemini: ProviderWireServer;
  let directory: string;
  let core: ChatCore;
  const bob = testUser("bob-follower");
  const { timing } = TEST_CHAT_OPTIONS;
  let counter = 0;

  before(async () => {
    gemini = await ProviderWireServer.start();
    directory = temporaryDirectory();
    core = await openChatCore({ directory, gemini });
  });
  after(async () => {
    await core.close();
    await gemini.close();
    removeDirectory(directory);
  });
  beforeEach(() => gemini.reset());

  const path = (messageId: string) => paths.message(bob.uid, messageId);
  const stored = async (messageId: string) => (await core.database.get<MessageRecord>(path(messageId)))?.data;
  /** An assistant message as a generator writes it; streaming ones are alive as of now. */
  const putMessage = async (fields: Partial<MessageRecord> & Pick<MessageRecord, "status" | "content">) => {
    counter += 1;
    const at = new Date();
    const message: MessageRecord = {
      message_id: `msg-followed-${String(counter)}`,
      chat_id: "chat-followed",
      seq: counter,
      role: "assistant",
      type: "text",
      request_id: `req-followed-${String(counter)}`,
      model: "gemini-3.8-flash",
      created_at: at,
      updated_at: at,
      ...(fields.status === "streaming" ? { alive_at: at } : {}),
      ...fields,
    };
    await core.database.set(path(message.message_id), message);
    return message;
  };
  /** Follows `message` from `offset` into a new client; `following` settles when the follower is done. */
  const follow = (message: MessageRecord, offset = 0) => {
    const sink = new RecordingSink();
    const following = core.chat.follow(bob.uid, message, offset, sink);
    return { sink, following };
  };

  describe("a finished answer", () => {
    it("is replayed from the offset: meta (resumed) at that offset, the rest of the text, then done", async () => {
      const message = await putMessage({ status: "done", content: "The whole answer, stored.", finish_reason: "STOP" });
      const { sink, following } = follow(message, 10);
      await following;
      assert.deepEqual(sink.names(), ["meta", "token", "done"]);
      assert.deepEqual(sink.meta(), {
        chat_id: "chat-followed",
        message_id: message.message_id,
        request_id: message.request_id,
        model: "gemini-3.8-flash",
        grounding: false,
        resumed: true,
      });
      assert.equal(sink.events[0]?.offset, 10);
      assert.equal(sink.text(), message.content.slice(10));
      assert.equal(sink.last()?.offset, message.content.length);
      await sink.ended;
    });

    it("is not echoed back past its end: an offset beyond it is clamped to its length", async () => {
      const message = await putMessage({ status: "done", content: "Short." });
      const { sink, following } = follow(message, 999);
      await following;
      assert.deepEqual(
        sink.events.map((event) => [event.event, event.offset]),
        [
          ["meta", 6],
          ["done", 6],
        ],
      );
    });

    it("replays its thought summary whole to a client starting at 0, and not to one that has content", async () => {
      const message = await putMessage({
        status: "done",
        content: "Forty-two.",
        thinking: "Considering the question.",
      });
      const fromStart = follow(message, 0);
      await fromStart.following;
      assert.deepEqual(fromStart.sink.names(), ["meta", "thinking", "token", "done"]);
      assert.equal(fromStart.sink.thinking(), "Considering the question.");
      assert.equal(fromStart.sink.of("thinking")[0]?.offset, 0);
      const midway = follow(message, 5);
      await midway.following;
      assert.deepEqual(midway.sink.names(), ["meta", "token", "done"]);
      assert.equal(midway.sink.text(), "-two.");
    });

    it("sends a grounded answer's sources right after meta", async () => {
      const citations = [{ index: 1, url: "https://example.org/a", title: "A", used: true }];
      const message = await putMessage({ status: "done", content: "Cited [1].", grounding_requested: true, citations });
      const { sink, following } = follow(message);
      await following;
      assert.deepEqual(sink.names(), ["meta", "sources", "token", "done"]);
      assert.equal(sink.meta().grounding, true);
      assert.deepEqual(sink.of("sources")[0]?.data.citations, citations);
    });

    it("ends with an aborted error when it was stopped, after what it holds", async () => {
      const message = await putMessage({ status: "aborted", content: "cut sh", error: "Stopped by the user." });
      const { sink, following } = follow(message);
      await following;
      assert.equal(sink.text(), "cut sh");
      assert.deepEqual(sink.last()?.event === "error" ? sink.last()?.data : undefined, {
        code: "aborted",
        message: "Stopped by the user.",
      });
    });
  });

  describe("an answer still streaming", () => {
    it("is followed live: each write arrives as the new text at its offset, until the answer is done", async () => {
      const message = await putMessage({ status: "streaming", content: "Hel" });
      const { sink, following } = follow(message);
      await sink.waitFor((event) => event.event === "token");
      await core.database.update(path(message.message_id), { content: "Hello, wor", alive_at: new Date() });
      await sink.waitFor((event) => event.event === "token" && event.offset === 10);
      await finishMessage(
        core.database,
        bob.uid,
        message.message_id,
        { status: "done", content: "Hello, world.", fields: { finish_reason: "STOP", latency_ms: 42 } },
        new Date(),
      );
      await following;
      assert.deepEqual(
        sink.of("token").map((event) => [event.data.text, event.offset]),
        [
          ["Hel", 3],
          ["lo, wor", 10],
          ["ld.", 13],
        ],
      );
      const done = sink.last();
      assert.equal(done?.event, "done");
      assert.deepEqual(done.data, {
        message_id: message.message_id,
        status: "done",
        finish_reason: "STOP",
        latency_ms: 42,
        model: "gemini-3.8-flash",
      });
    });

    it("keeps the message's attached_at fresh, so its generator knows a client is there", async () => {
      const message = await putMessage({ status: "streaming", content: "" });
      const { sink, following } = follow(message);
      const attached = await until(
        () => stored(message.message_id),
        (current) => current?.attached_at !== undefined,
      );
      assert.ok(
        attached?.attached_at !== undefined && Date.now() - attached.attached_at.getTime() < timing.attachTimeoutMs,
      );
      sink.disconnect();
      await following;
      await finishMessage(core.database, bob.uid, message.message_id, { status: "aborted" }, new Date());
    });

    it("ends with an aborted error when the answer is stopped while followed", async () => {
      const message = await putMessage({ status: "streaming", content: "half" });
      const { sink, following } = follow(message);
      await sink.waitFor((event) => event.event === "token");
      await finishMessage(
        core.database,
        bob.uid,
        message.message_id,
        { status: "aborted", error: { code: "aborted", message: "Stopped by the user." } },
        new Date(),
      );
      await following;
      const last = sink.last();
      assert.equal(last?.event, "error");
      assert.equal(last.data.code, "aborted");
      assert.equal(last.offset, 4);
    });

    it("ends with the answer's own error code when it fails while followed", async () => {
      const message = await putMessage({ status: "streaming", content: "" });
      const { sink, following } = follow(message);
      await sink.waitFor((event) => event.event === "meta");
      await finishMessage(
        core.database,
        bob.uid,
        message.message_id,
        { status: "error", error: { code: "blocked", message: "The answer was blocked by the safety filters." } },
        new Date(),
      );
      await following;
      const last = sink.last();
      assert.equal(last?.event === "error" ? last.data.code : last?.event, "blocked");
    });

    it("ends with not_found when the answer is deleted while followed", async () => {
      const message = await putMessage({ status: "streaming", content: "soon gone" });
      const { sink, following } = follow(message);
      await sink.waitFor((event) => event.event === "token");
      await core.database.delete(path(message.message_id));
      await following;
      const last = sink.last();
      assert.equal(last?.event === "error" ? last.data.code : last?.event, "not_found");
    });

    it("ends an answer whose generator died (no sign of life for the staleness window) aborted, with its partial content", async () => {
      const long = new Date(Date.now() - timing.staleMs - 60_000);
      const message = await putMessage({
        status: "streaming",
        content: "half an ans",
        alive_at: long,
        updated_at: long,
      });
      const { sink, following } = follow(message);
      await following;
      assert.equal(sink.text(), "half an ans");
      const last = sink.last();
      assert.equal(last?.event === "error" ? last.data.code : last?.event, "aborted");
      const ended = await stored(message.message_id);
      assert.equal(ended?.status, "aborted");
      assert.equal(ended.content, "half an ans");
    });

    it("stops following, and ends its stream, when its client leaves", async () => {
      const message = await putMessage({ status: "streaming", content: "still going" });
      const { sink, following } = follow(message);
      await sink.waitFor((event) => event.event === "token");
      sink.disconnect();
      await following;
      await sink.ended;
      assert.equal(
        (await stored(message.message_id))?.status,
        "streaming",
        "leaving ends the following, not the answer",
      );
      await finishMessage(core.database, bob.uid, message.message_id, { status: "aborted" }, new Date());
    });
  });

  describe("followers of one answer", () => {
    it("keep their heartbeats inside the document's write budget, however many follow a live answer", async () => {
      const pieces = Array.from({ length: 20 }, (_, index) => `h${String(index)} `);
      gemini.next("streamGenerateContent", (_, response) =>
        streamChunks(response, textChunks(pieces), { delayMs: 100 }),
      );
      const answer = await core.ask(bob, { message: "many watchers" });
      await answer.sink.waitFor((event) => event.event === "token");
      const messagePath = path(answer.messageId);
      const before = core.database.writesTo(messagePath);
      const started = Date.now();
      const message = await core.chat.message(bob.uid, answer.messageId);
      const followers = Array.from({ length: 8 }, () => follow(message));
      await Promise.all(followers.map((follower) => follower.following));
      await answer.streamed;
      const writes = core.database.writesTo(messagePath) - before;
      const elapsed = Date.now() - started;
      // The generator's writes (one per interval) plus attached_at at most once per half attach timeout.
      const budget =
        Math.ceil(elapsed / timing.updateIntervalMs) + Math.ceil(elapsed / (timing.attachTimeoutMs / 2)) + 2;
      assert.ok(
        writes <= budget,
        `${String(writes)} writes in ${String(elapsed)} ms with 8 followers (budget ${String(budget)})`,
      );
      assert.ok(followers.every((follower) => follower.sink.text() === pieces.join("")));
    });
  });
});
