import assert from "node:assert/strict";
import { paths } from "../store/paths.ts";
import type { JobRecord, MessageRecord, RequestRecord } from "../store/records.ts";
import { startApiServer, type ApiServer } from "../test-support/api-server.ts";
import { authEmulator, type TestUser } from "../test-support/auth-emulator.ts";
import { openSse } from "../test-support/sse-client.ts";
import { until } from "../test-support/until.ts";

/**
 * Firestore runs a transaction's callback again when it loses to a concurrent writer. Here every transaction of
 * the whole product loses its first attempt (the embedded store's simulated contention), and the product's flows
 * must come out exactly as they do without: counters counted once, one pair of messages per request, one job per
 * submission, every document in its final state. A callback that kept state across runs would show here.
 */
describe("every transaction's work is safe to run again", function () {
  this.timeout(60_000);
  let server: ApiServer;
  let user: TestUser;
  let attempts = 0;

  before(async () => {
    // Each transaction's first attempt loses to a simulated concurrent writer; its second commits.
    server = await startApiServer(
      {
        RATE_LIMIT_RPM: "6000",
        RATE_LIMIT_BURST: "1000",
        RATE_LIMIT_FREE: "100",
        SIMULATED_JOB_DELAY_MS: "10",
        VEO_POLL_INTERVAL_SECONDS: "1",
      },
      {
        simulatedContention: (attempt) => {
          attempts += 1;
          return attempt === 1;
        },
      },
    );
    user = await (await authEmulator()).createUser();
  });
  after(async () => {
    await server.close();
  });

  const headers = () => ({ Authorization: `Bearer ${user.idToken}`, "Content-Type": "application/json" });
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${server.url}${path}`, {
      method: "POST",
      headers: headers(),
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const database = () => server.services.database;
  const counter = async (name: string) =>
    (await database().get<Record<string, unknown>>(paths.counter(user.uid, name)))?.data;

  it("chat: a new answer, a grounded one and a replay count once each and write one pair of messages", async () => {
    const first = await openSse(`${server.url}/chat/stream`, {
      method: "POST",
      headers: headers(),
      body: JSON.stringify({ message: "hello", request_id: "rerun-chat-1" }),
    });
    await first.finished;
    assert.equal(first.events.at(-1)?.event, "done");
    const replay = await openSse(`${server.url}/chat/stream`, {
      method: "POST",
      headers: headers(),
      body: JSON.stringify({ message: "hello", request_id: "rerun-chat-1" }),
    });
    await replay.finished;
    const grounded = await openSse(`${server.url}/chat/stream`, {
      method: "POST",
      headers: headers(),
      body: JSON.stringify({ message: "what happened today?", grounding: true, request_id: "rerun-chat-2" }),
    });
    await grounded.finished;
    assert.equal(grounded.events.at(-1)?.event, "done");

    const month = new Date().toISOString().slice(0, 7);
    assert.equal((await counter(`messages-${month}`))?.count, 2, "two generations, whatever the reruns");
    assert.equal(((await counter("grounding"))?.times as unknown[]).length, 1);
    const messages = await database().query<MessageRecord>({ collection: paths.messages(user.uid) });
    assert.equal(messages.length, 4, "one user and one assistant message per request");
    assert.ok(messages.every((message) => message.data.status === "done"));
    const request = await database().get<RequestRecord>(paths.request(user.uid, "rerun-chat-1"));
    assert.equal(request?.data.status, "done");
    assert.ok(attempts > 0);
  });

  it("jobs: an image and a video reach done once, with one job each and their media", async () => {
    const image = await post("/image/generate", { prompt: "a lighthouse", request_id: "rerun-image" });
    const video = await post("/video/generate", { prompt: "waves", request_id: "rerun-video", duration_seconds: 4 });
    assert.equal(image.status, 200, JSON.stringify(image.body));
    assert.equal(video.status, 200, JSON.stringify(video.body));
    for (const submitted of [image, video]) {
      const jobId = String(submitted.body.job_id);
      const done = await until(
        () => server.services.ledger.get(user.uid, jobId),
        (job) => job?.status === "done",
        { timeoutMs: 20_000, what: jobId },
      );
      // One claim per delivery (the start, then each poll of a video), however often each claim's transaction ran.
      assert.equal(done?.attempts, (done?.poll_count ?? 0) + 1);
      const message = await database().get<MessageRecord>(paths.message(user.uid, done.message_id));
      assert.equal(message?.data.status, "done");
    }
    const jobs = await database().query<JobRecord>({ collection: paths.jobs(user.uid) });
    assert.equal(jobs.length, 2);
  });

  it("stop and delete: a stopped answer ends aborted once; a deleted chat leaves none of its documents", async () => {
    const session = await openSse(`${server.url}/chat/stream`, {
      method: "POST",
      headers: headers(),
      body: JSON.stringify({ message: "a long one simulate:slow", request_id: "rerun-stop" }),
    });
    await until(
      async () => Promise.resolve(session.events.length),
      (count) => count > 2,
    );
    const meta = session.events[0]?.json<{ message_id: string; chat_id: string }>();
    const stopped = await post("/chat/stop", { message_id: meta?.message_id });
    assert.equal(stopped.body.status, "aborted", JSON.stringify(stopped.body));
    await session.finished;
    const deleted = await fetch(`${server.url}/history/chats/${String(meta?.chat_id)}`, {
      method: "DELETE",
      headers: headers(),
    });
    assert.equal(deleted.status, 200);
    const left = await database().query<MessageRecord>({ collection: paths.messages(user.uid) });
    assert.ok(!left.some((message) => message.data.chat_id === meta?.chat_id));
  });

  it("the cleanup sweep runs to the end", async () => {
    const swept = await server.services.cleanup.sweep();
    assert.equal(swept.more, false);
  });
});
