import assert from "node:assert/strict";
import { AppError } from "../errors/app-error.ts";
import {
  openChatCore,
  removeDirectory,
  temporaryDirectory,
  testUser,
  type ChatCore,
} from "../test-support/chat-core.ts";
import { echoStream, ProviderWireServer, streamChunks, textChunks } from "../test-support/provider-wire-server.ts";
import { paths } from "../store/paths.ts";
import type { MessageRecord } from "../store/records.ts";

/**
 * Starting a turn and streaming it (`ChatService.begin` and `stream`) by `request_id`, in this process: a request
 * repeated with the same payload is one answer (replayed when finished, resumed when not), never a second model
 * call; the same id with another payload is refused before anything is written.
 */
describe("a chat turn by request_id", function () {
  this.timeout(30_000);
  let gemini: ProviderWireServer;
  let directory: string;
  let core: ChatCore;
  const carol = testUser("carol-turns");

  before(async () => {
    gemini = await ProviderWireServer.start();
    gemini.setDefault("streamGenerateContent", echoStream());
    directory = temporaryDirectory();
    core = await openChatCore({ directory, gemini });
  });
  after(async () => {
    await core.close();
    await gemini.close();
    removeDirectory(directory);
  });
  beforeEach(() => gemini.reset());

  const messagesOfChat = async (chatId: string) =>
    core.database.query<MessageRecord>({
      collection: paths.messages(carol.uid),
      where: [{ field: "chat_id", op: "==", value: chatId }],
    });
  const conflict = (error: unknown) => error instanceof AppError && error.code === "conflict";

  it("reads the user's document once while starting a turn, though the quota and the budget both need it", async () => {
    const dave = testUser("dave-session");
    const before = core.database.transactionReadsOf(paths.user(dave.uid));
    const turn = await core.ask(dave, { message: "count my round trips" });
    await turn.streamed;
    // Each read in Firestore is a round trip before the model is called.
    assert.equal(core.database.transactionReadsOf(paths.user(dave.uid)) - before, 1);
  });

  it("replays a finished answer from the store without calling the model again", async () => {
    const first = await core.ask(carol, { message: "once only", request_id: "turn-replay-1" });
    await first.streamed;
    const calls = gemini.count("streamGenerateContent");
    const again = await core.ask(carol, { message: "once only", request_id: "turn-replay-1" });
    await again.streamed;
    assert.equal(gemini.count("streamGenerateContent"), calls);
    assert.equal(again.sink.meta().resumed, true);
    assert.equal(again.messageId, first.messageId);
    assert.equal(again.sink.text(), first.sink.text());
    assert.equal(again.sink.last()?.event, "done");
    assert.equal((await messagesOfChat(first.chatId)).length, 2);
  });

  it("replays a finished answer from the offset the retried request already has", async () => {
    const body = { message: "finished before the retry", request_id: "turn-replay-offset-1" };
    const first = await core.ask(carol, body);
    await first.streamed;
    const retried = await core.ask(carol, body, 7);
    await retried.streamed;
    assert.equal(retried.sink.events[0]?.offset, 7);
    assert.equal(retried.sink.text(), first.sink.text().slice(7));
    assert.equal(retried.sink.last()?.event, "done");
  });

  it("continues an answer still being generated from the offset the retried request has, without repeating text", async () => {
    const pieces = Array.from({ length: 12 }, (_, index) => `part${String(index)} `);
    gemini.next("streamGenerateContent", (_, response) => streamChunks(response, textChunks(pieces), { delayMs: 80 }));
    const body = { message: "cut me off", request_id: "turn-retry-live-1" };
    const first = await core.ask(carol, body);
    const reached = await first.sink.waitFor((event) => event.event === "token" && event.offset > 10);
    first.sink.disconnect();
    const received = first.sink.text();
    const retried = await core.ask(carol, body, reached.offset);
    await retried.streamed;
    assert.equal(retried.sink.meta().resumed, true);
    assert.equal(retried.sink.events[0]?.offset, reached.offset);
    assert.equal(received + retried.sink.text(), pieces.join(""));
    assert.equal(retried.sink.last()?.event, "done");
    assert.equal(gemini.count("streamGenerateContent"), 1);
    await first.streamed;
  });

  it("refuses the request_id with another payload (conflict), and writes nothing", async () => {
    const first = await core.ask(carol, { message: "original", request_id: "turn-conflict-1" });
    await first.streamed;
    await assert.rejects(core.ask(carol, { message: "something else", request_id: "turn-conflict-1" }), conflict);
    await assert.rejects(
      core.ask(carol, { message: "original", request_id: "turn-conflict-1", grounding: true }),
      conflict,
    );
    await assert.rejects(
      core.ask(carol, { message: "original", request_id: "turn-conflict-1", model: "gemini-4-hydrogen" }),
      conflict,
    );
    assert.equal((await messagesOfChat(first.chatId)).length, 2);
    assert.equal(gemini.count("streamGenerateContent"), 1);
  });

  it("makes one model call and one pair of messages for two concurrent requests with the same id", async () => {
    gemini.next("streamGenerateContent", (_, response) =>
      streamChunks(response, textChunks(["to", "gether"]), { delayMs: 100 }),
    );
    const [one, two] = await Promise.all([
      core.ask(carol, { message: "race", request_id: "turn-race-1" }),
      core.ask(carol, { message: "race", request_id: "turn-race-1" }),
    ]);
    await Promise.all([one.streamed, two.streamed]);
    assert.equal(gemini.count("streamGenerateContent"), 1);
    assert.equal(one.messageId, two.messageId);
    assert.equal(one.sink.text(), "together");
    assert.equal(two.sink.text(), "together");
    assert.deepEqual([one.sink.meta().resumed, two.sink.meta().resumed].sort(), [false, true]);
    assert.equal((await messagesOfChat(one.chatId)).length, 2);
  });
});
