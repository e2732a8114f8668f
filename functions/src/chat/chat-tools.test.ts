import assert from "node:assert/strict";
import { startApiServer, type ApiServer } from "../test-support/api-server.ts";
import { authEmulator, type TestUser } from "../test-support/auth-emulator.ts";
import { openSse, type SseSession } from "../test-support/sse-client.ts";
import { until } from "../test-support/until.ts";
import { paths } from "../store/paths.ts";
import type { JobRecord, MessageRecord } from "../store/records.ts";
import type { Message } from "../contract/resources.ts";
import { stepLimitSentence } from "./tool-loop.ts";

/** A text as a literal part of a regular expression. */
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Tools in chat through the real `api` handler, on the offline stack: the simulated text model acts tools out as
 * a model would (a request to draw calls `generate_image`, one for a video `generate_video`), the real tool loop
 * runs the real media tools, and the jobs they queue run on the simulated media providers.
 */
describe("tools in chat", function () {
  this.timeout(30_000);
  let server: ApiServer;
  let alice: TestUser;
  let bob: TestUser;

  before(async () => {
    server = await startApiServer({
      STREAM_UPDATE_INTERVAL_MS: "100",
      TOOL_MAX_STEPS: "2",
      RATE_LIMIT_RPM: "6000",
      RATE_LIMIT_BURST: "1000",
      RATE_LIMIT_FREE: "0",
    });
    const emulator = await authEmulator();
    [alice, bob] = [await emulator.createUser(), await emulator.createUser()];
  });
  after(async () => {
    await server.close();
  });

  const headers = (user: TestUser) => ({ Authorization: `Bearer ${user.idToken}`, "Content-Type": "application/json" });
  const post = (path: string, body: unknown, user = alice): Promise<SseSession> =>
    openSse(`${server.url}${path}`, { method: "POST", headers: headers(user), body: JSON.stringify(body) });
  const names = (session: SseSession) => session.events.map((event) => event.event);
  const stored = async (user: TestUser, messageId: string) =>
    (await server.services.database.get<MessageRecord>(paths.message(user.uid, messageId)))?.data;
  const jobsOf = async (user: TestUser) =>
    server.services.database.query<JobRecord>({ collection: paths.jobs(user.uid), limit: 100 });
  const history = async (user: TestUser, chatId: string): Promise<Message[]> => {
    const response = await fetch(`${server.url}/history/chats/${chatId}`, { headers: headers(user) });
    return ((await response.json()) as { messages: Message[] }).messages;
  };
  const meta = (session: SseSession) =>
    session.events.find((event) => event.event === "meta")?.json<{ message_id: string; chat_id: string }>() ?? {
      message_id: "",
      chat_id: "",
    };

  it("draws when asked: tool_call and tool_result stream between the words, and the picture appears in the chat", async () => {
    const session = await post("/chat/stream", { message: "please draw a red fox", request_id: "tools-draw-1" });
    await session.finished;
    assert.deepEqual(
      names(session).filter((name) => name !== "token"),
      ["meta", "tool_call", "tool_result", "done"],
    );
    const call = session.events.find((event) => event.event === "tool_call")?.json();
    assert.equal(call?.name, "generate_image");
    assert.deepEqual(call.arguments, { prompt: "please draw a red fox" });
    const result = session.events.find((event) => event.event === "tool_result")?.json();
    assert.equal(result?.ok, true);
    assert.match(String(result.job_id), /^job-/);
    assert.match(session.text(), /^I'll draw that for you\.\n\nYour picture is on its way/);

    const { chat_id, message_id } = meta(session);
    const answer = await stored(alice, message_id);
    assert.equal(answer?.status, "done");
    assert.deepEqual(
      answer.tool_calls?.map((stored) => [stored.name, stored.status, stored.job_id, stored.offset]),
      [["generate_image", "done", result.job_id, "I'll draw that for you.".length]],
    );
    const messages = await until(
      () => history(alice, chat_id),
      (items) => items.some((item) => item.type === "image" && item.status === "done"),
      { what: "the picture in the chat" },
    );
    const image = messages.find((item) => item.type === "image");
    assert.equal(image?.job_id, result.job_id);
    assert.deepEqual(
      messages.map((item) => [item.role, item.type]),
      [
        ["user", "text"],
        ["assistant", "text"],
        ["assistant", "image"],
      ],
      "the picture follows the answer as its own message; the question is not repeated",
    );
    const view = messages.find((item) => item.message_id === message_id)?.tool_calls?.[0];
    assert.deepEqual(Object.keys(view ?? {}).sort(), [
      "arguments",
      "call_id",
      "job_id",
      "name",
      "ok",
      "status",
      "summary",
    ]);
  });

  it("searches the web when the model decides to: sources arrive mid-answer and its [n] citations are checked", async () => {
    const session = await post("/chat/stream", { message: "what is the latest news on fusion power?" });
    await session.finished;
    assert.deepEqual(
      names(session).filter((name) => name !== "token"),
      ["meta", "tool_call", "sources", "tool_result", "done"],
    );
    const call = session.events.find((event) => event.event === "tool_call")?.json();
    assert.equal(call?.name, "web_search");
    const { citations } = session.events
      .find((event) => event.event === "sources")
      ?.json<{
        citations: { index: number; title: string }[];
      }>() ?? { citations: [] };
    assert.ok(citations.length > 0);
    assert.deepEqual(
      citations.map((citation) => citation.index),
      citations.map((_, position) => position + 1),
    );
    assert.match(session.text(), new RegExp(`${escape(citations[0]?.title ?? "")} \\[1\\]`));
    const answer = await stored(alice, meta(session).message_id);
    assert.equal(answer?.citations?.[0]?.used, true);
    assert.equal(answer.citations_removed, 0);
    assert.equal(answer.grounding?.length, citations.length);
  });

  it("replays a repeated request_id with its tool events in place, running nothing again", async () => {
    const before = (await jobsOf(alice)).length;
    const first = await post("/chat/stream", { message: "draw a quiet harbour", request_id: "tools-replay-1" });
    await first.finished;
    assert.equal((await jobsOf(alice)).length, before + 1);
    const replay = await post("/chat/stream", { message: "draw a quiet harbour", request_id: "tools-replay-1" });
    await replay.finished;
    assert.deepEqual(names(replay), ["meta", "token", "tool_call", "tool_result", "token", "done"]);
    assert.equal(replay.text(), first.text());
    assert.deepEqual(
      replay.events.filter((event) => event.event.startsWith("tool_")).map((event) => event.json()),
      first.events.filter((event) => event.event.startsWith("tool_")).map((event) => event.json()),
    );
    assert.equal((await jobsOf(alice)).length, before + 1, "no second job");
  });

  describe("a call that needs approval (generate_video by default)", () => {
    const askForVideo = async (requestId: string, user = alice) => {
      const session = await post("/chat/stream", { message: "make a video of waves", request_id: requestId }, user);
      await session.finished;
      const last = session.events.at(-1);
      assert.equal(last?.event, "approval_required");
      return { session, call: last.json<{ call_id: string; name: string }>(), ...meta(session) };
    };

    it("ends the stream with approval_required and waits, running nothing", async () => {
      const before = (await jobsOf(alice)).length;
      const { call, message_id, chat_id } = await askForVideo("tools-video-wait");
      assert.equal(call.name, "generate_video");
      const waiting = await stored(alice, message_id);
      assert.equal(waiting?.status, "awaiting_approval");
      assert.ok(waiting.approval_expires_at !== undefined);
      const shown = (await history(alice, chat_id)).find((item) => item.message_id === message_id);
      assert.equal(shown?.status, "awaiting_approval");
      assert.equal(shown.tool_calls?.[0]?.status, "awaiting_approval");
      assert.equal((await jobsOf(alice)).length, before, "no job before the yes");
      const resumed = await openSse(`${server.url}/chat/stream/${message_id}`, { headers: headers(alice) });
      await resumed.finished;
      assert.equal(resumed.events.at(-1)?.event, "approval_required", "a resume shows the question again");
    });

    it("runs the call once approved and goes on in the same message", async () => {
      const before = (await jobsOf(alice)).length;
      const { call, message_id, session } = await askForVideo("tools-video-yes");
      const paused = await stored(alice, message_id);
      const approved = await post("/chat/approve", { message_id, call_id: call.call_id, approved: true });
      await approved.finished;
      assert.deepEqual(
        names(approved).filter((name) => name !== "token"),
        ["meta", "tool_result", "done"],
      );
      const result = approved.events.find((event) => event.event === "tool_result")?.json();
      assert.equal(result?.ok, true);
      assert.match(String(result.job_id), /job-/);
      const done = await stored(alice, message_id);
      assert.equal(done?.status, "done");
      assert.equal(done.approval_expires_at, undefined);
      assert.equal(done.content, session.text() + approved.text());
      assert.match(approved.text(), /Your video is on its way/);
      assert.ok(paused?.usage !== undefined, "the tokens used before the pause are kept with the question");
      assert.ok(
        (done.usage?.output_tokens ?? 0) > paused.usage.output_tokens,
        "and the answer's total goes on from them",
      );
      assert.equal((await jobsOf(alice)).length, before + 1);
      const again = await post("/chat/approve", { message_id, call_id: call.call_id, approved: true });
      assert.equal(again.status, 409, "a second answer");
      assert.equal((await jobsOf(alice)).length, before + 1);
    });

    it("tells the model a declined call was declined, and runs nothing", async () => {
      const before = (await jobsOf(alice)).length;
      const { call, message_id } = await askForVideo("tools-video-no");
      const declined = await post("/chat/approve", { message_id, call_id: call.call_id, approved: false });
      await declined.finished;
      const result = declined.events.find((event) => event.event === "tool_result")?.json();
      assert.deepEqual(result, { call_id: call.call_id, ok: false, error: "The user declined this call." });
      assert.match(declined.text(), /Understood: I won't do that\./);
      assert.equal((await stored(alice, message_id))?.tool_calls?.[0]?.status, "declined");
      assert.equal((await jobsOf(alice)).length, before);
    });

    it("refuses a wrong call id or a message not waiting with 409, someone else's with 404, bad bodies with 400", async () => {
      const { call, message_id } = await askForVideo("tools-video-refusals");
      const refusal = async (body: unknown, user = alice) => {
        const session = await post("/chat/approve", body, user);
        return { status: session.status, code: (session.errorBody?.error as { code?: string } | undefined)?.code };
      };
      assert.deepEqual(await refusal({ message_id, call_id: "call-99", approved: true }), {
        status: 409,
        code: "conflict",
      });
      assert.deepEqual(await refusal({ message_id, call_id: call.call_id, approved: true }, bob), {
        status: 404,
        code: "not_found",
      });
      assert.deepEqual(await refusal({ message_id, call_id: call.call_id, approved: "yes" }), {
        status: 400,
        code: "invalid_argument",
      });
      const done = await post("/chat/stream", { message: "hello there" });
      await done.finished;
      assert.deepEqual(await refusal({ message_id: meta(done).message_id, call_id: "call-1", approved: true }), {
        status: 409,
        code: "conflict",
      });
      assert.equal((await stored(alice, message_id))?.status, "awaiting_approval", "nothing changed");
    });

    it("is ended by the sweep once its approval lapses (APPROVAL_TIMEOUT_SECONDS), the call declined", async () => {
      const { message_id, call } = await askForVideo("tools-video-lapse");
      const waiting = await stored(alice, message_id);
      const sweep = () => server.services.cleanup.sweep();
      await sweep();
      assert.equal((await stored(alice, message_id))?.status, "awaiting_approval", "not before it lapses");
      // Fifteen minutes later, as far as this message knows.
      await server.services.database.update(paths.message(alice.uid, message_id), {
        approval_expires_at: new Date(Date.now() - 1_000),
      });
      const tooLate = await post("/chat/approve", { message_id, call_id: call.call_id, approved: true });
      assert.equal(tooLate.status, 409, "a lapsed question cannot be answered, even before the sweep");
      const report = await sweep();
      assert.ok(report.aborted_streams >= 1);
      const ended = await stored(alice, message_id);
      assert.equal(ended?.status, "aborted");
      assert.equal(ended.error, "No approval came in time.");
      assert.equal(ended.tool_calls?.[0]?.status, "declined");
      assert.ok(waiting?.approval_expires_at !== undefined);
      const late = await post("/chat/approve", { message_id, call_id: call.call_id, approved: true });
      assert.equal(late.status, 409, "too late to approve");
    });

    it("stops a waiting answer: it ends aborted, the call declined", async () => {
      const { message_id } = await askForVideo("tools-video-stop");
      const response = await fetch(`${server.url}/chat/stop`, {
        method: "POST",
        headers: headers(alice),
        body: JSON.stringify({ message_id }),
      });
      assert.deepEqual(await response.json(), { ok: true, message_id, status: "aborted" });
      const ended = await stored(alice, message_id);
      assert.equal(ended?.tool_calls?.[0]?.status, "declined");
      assert.equal(ended.approval_expires_at, undefined);
    });
  });

  it("ends an answer whose model keeps calling tools after TOOL_MAX_STEPS rounds with a sentence saying so", async () => {
    const session = await post("/chat/stream", { message: "draw a cat simulate:tool-loop" });
    await session.finished;
    assert.equal(names(session).filter((name) => name === "tool_call").length, 2);
    assert.ok(session.text().endsWith(stepLimitSentence(2)));
    const done = session.events.at(-1)?.json();
    assert.equal(done?.finish_reason, "TOOL_STEP_LIMIT");
  });
});
