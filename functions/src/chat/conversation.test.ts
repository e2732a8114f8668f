import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DocumentDatabase } from "../database/document-database.ts";
import { openSqliteDocumentDatabase } from "../database/sqlite-document-database.ts";
import { paths } from "../store/paths.ts";
import type { MessageRecord } from "../store/records.ts";
import { loadConversation, messagesBefore, prefetchLatestMessages } from "./conversation.ts";

describe("the conversation sent to the model", () => {
  let directory: string;
  let database: DocumentDatabase;
  const uid = "u1";

  before(async () => {
    directory = mkdtempSync(join(tmpdir(), "atelier-conversation-"));
    database = await openSqliteDocumentDatabase(join(directory, "db.sqlite"));
  });
  after(async () => {
    await database.close();
    rmSync(directory, { recursive: true, force: true });
  });

  let seq = 0;
  async function add(chatId: string, fields: Partial<MessageRecord> & Pick<MessageRecord, "role" | "content">) {
    seq += 1;
    const now = new Date();
    const message: MessageRecord = {
      message_id: `m${seq}`,
      chat_id: chatId,
      seq,
      type: "text",
      status: "done",
      request_id: "r",
      created_at: now,
      updated_at: now,
      ...fields,
    };
    await database.set(paths.message(uid, message.message_id), message);
    return message;
  }

  it("keeps the order, leaves out failed answers, and notes generated media", async () => {
    await add("c1", { role: "user", content: "draw a cat" });
    await add("c1", { role: "assistant", content: "", type: "image" });
    await add("c1", { role: "user", content: "tell me a joke" });
    await add("c1", { role: "assistant", content: "half a jo", status: "error" });
    await add("c1", { role: "user", content: "try again" });
    const current = await add("c1", { role: "assistant", content: "", status: "streaming" });
    const turns = await loadConversation(database, uid, current, [], { maxMessages: 20, maxCharacters: 10_000 });
    assert.deepEqual(
      turns.map((turn) => [turn.role, turn.text]),
      [
        ["user", "draw a cat"],
        ["model", "[An image was generated for this request.]"],
        ["user", "tell me a joke"],
        ["user", "try again"],
      ],
    );
  });

  it("keeps only the most recent messages within the message and character budgets, the new one always", async () => {
    await add("c2", { role: "user", content: "a".repeat(100) });
    await add("c2", { role: "assistant", content: "b".repeat(100) });
    await add("c2", { role: "user", content: "c".repeat(100) });
    await add("c2", { role: "assistant", content: "d".repeat(100) });
    await add("c2", { role: "user", content: "e".repeat(500) });
    const current = await add("c2", { role: "assistant", content: "", status: "streaming" });
    const byCount = await loadConversation(database, uid, current, [], { maxMessages: 3, maxCharacters: 10_000 });
    assert.deepEqual(
      byCount.map((turn) => turn.text[0]),
      ["c", "d", "e"],
    );
    const byCharacters = await loadConversation(database, uid, current, [], { maxMessages: 20, maxCharacters: 720 });
    assert.deepEqual(
      byCharacters.map((turn) => turn.text[0]),
      ["c", "d", "e"],
      "the oldest that do not fit are dropped",
    );
    const tiny = await loadConversation(database, uid, current, [], { maxMessages: 20, maxCharacters: 10 });
    assert.deepEqual(
      tiny.map((turn) => turn.text[0]),
      ["e"],
      "the new message goes in even when it alone is over budget",
    );
  });

  it("never starts with a model turn", async () => {
    await add("c3", { role: "user", content: "x".repeat(300) });
    await add("c3", { role: "assistant", content: "short" });
    await add("c3", { role: "user", content: "now" });
    const current = await add("c3", { role: "assistant", content: "", status: "streaming" });
    const turns = await loadConversation(database, uid, current, [], { maxMessages: 2, maxCharacters: 10_000 });
    assert.deepEqual(
      turns.map((turn) => turn.role),
      ["user"],
    );
  });

  it("sends the images it is given with the new message only", async () => {
    const image = { mimeType: "image/png", data: Buffer.from("89504e470d0a1a0a", "hex") };
    await add("c4", {
      role: "user",
      content: "what is in the first picture?",
      attachments: [{ path: `users/${uid}/uploads/a.png`, mime_type: "image/png" }],
    });
    await add("c4", { role: "assistant", content: "a cat" });
    await add("c4", {
      role: "user",
      content: "and in this one?",
      attachments: [{ path: `users/${uid}/uploads/b.png`, mime_type: "image/png" }],
    });
    const current = await add("c4", { role: "assistant", content: "", status: "streaming" });
    const turns = await loadConversation(database, uid, current, [image], { maxMessages: 5, maxCharacters: 1_000 });
    assert.deepEqual(
      turns.map((turn) => turn.images),
      [undefined, undefined, [image]],
    );
  });

  describe("a new turn's history, read while its start transaction runs", () => {
    const limits = { maxMessages: 3, maxCharacters: 10_000 };
    const contents = (messages: readonly MessageRecord[]) => messages.map((message) => message.content);

    it("keeps what came before the turn when the read already saw the turn's own messages", async () => {
      await add("c7", { role: "user", content: "one" });
      await add("c7", { role: "assistant", content: "two" });
      await add("c7", { role: "user", content: "three" });
      const own = await add("c7", { role: "user", content: "the new turn" });
      await add("c7", { role: "assistant", content: "", status: "streaming" });
      const prefetched = prefetchLatestMessages(database, uid, "c7", limits);
      assert.deepEqual(contents(await messagesBefore(database, uid, own, prefetched, limits)), ["three", "two"]);
    });

    it("reads again when another turn of the chat committed between the read and the turn", async () => {
      await add("c8", { role: "user", content: "first" });
      await add("c8", { role: "assistant", content: "answer" });
      const prefetched = prefetchLatestMessages(database, uid, "c8", limits);
      await prefetched;
      await add("c8", { role: "user", content: "a turn from another tab" });
      await add("c8", { role: "assistant", content: "", status: "streaming" });
      const own = await add("c8", { role: "user", content: "the new turn" });
      assert.deepEqual(contents(await messagesBefore(database, uid, own, prefetched, limits)), [
        "",
        "a turn from another tab",
      ]);
    });

    it("reads again when the read saw too few of the earlier messages (newer ones took its room)", async () => {
      await add("c10", { role: "user", content: "h1" });
      await add("c10", { role: "assistant", content: "h2" });
      await add("c10", { role: "user", content: "h3" });
      const own = await add("c10", { role: "user", content: "the new turn" });
      await add("c10", { role: "assistant", content: "", status: "streaming" });
      await add("c10", { role: "user", content: "a later turn" });
      const prefetched = prefetchLatestMessages(database, uid, "c10", limits);
      assert.deepEqual(contents(await messagesBefore(database, uid, own, prefetched, limits)), ["h3", "h2"]);
    });

    it("has nothing before the first turn of a chat", async () => {
      const own = { chat_id: "c9", seq: 1 };
      assert.deepEqual(await messagesBefore(database, uid, own, Promise.resolve([]), limits), []);
    });
  });
});
