import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { paths } from "../store/paths.ts";
import type { ChatRecord, JobRecord } from "../store/records.ts";
import { mediaFilesOf, TINY_PNG } from "../test-support/media-fixtures.ts";
import { startApiServer, type ApiServer } from "../test-support/api-server.ts";
import { authEmulator, type TestUser } from "../test-support/auth-emulator.ts";
import { openSse } from "../test-support/sse-client.ts";
import { until } from "../test-support/until.ts";

/**
 * Deleting a chat through the real `api` handler, with the workers running in this process on the labelled
 * simulated providers (slow enough to delete a chat while one of its jobs is being made): nothing of the chat is
 * left, in any collection or in the media folder, and nothing of it keeps working.
 */
describe("deleting a chat", function () {
  this.timeout(60_000);
  let server: ApiServer;
  let user: TestUser;

  before(async () => {
    server = await startApiServer({
      SIMULATED_JOB_DELAY_MS: "1500",
      VEO_POLL_INTERVAL_SECONDS: "1",
      RATE_LIMIT_USER_ACTIVE_JOBS: "2",
      RATE_LIMIT_FREE: "0",
      RATE_LIMIT_RPM: "6000",
      RATE_LIMIT_BURST: "1000",
    });
    user = await (await authEmulator()).createUser();
  });
  after(async () => {
    await server.close();
  });

  const headers = () => ({ Authorization: `Bearer ${user.idToken}`, "Content-Type": "application/json" });
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: headers(),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const documentsOfChat = async (chatId: string) => {
    const counts: Record<string, number> = {};
    for (const collection of ["messages", "jobs", "requests"] as const) {
      const found = await server.services.database.query({
        collection: paths[collection](user.uid),
        where: [{ field: "chat_id", op: "==", value: chatId }],
      });
      counts[collection] = found.length;
    }
    counts.chats = (await server.services.database.get<ChatRecord>(paths.chat(user.uid, chatId))) === null ? 0 : 1;
    return counts;
  };

  it("while its jobs run: cancels them, stores nothing afterwards, and leaves no document and no file", async () => {
    const upload = await call("POST", "/uploads", { data: TINY_PNG.toString("base64"), mime_type: "image/png" });
    const uploadPath = String(upload.body.path);
    const answer = await openSse(`${server.url}/chat/stream`, {
      method: "POST",
      headers: headers(),
      body: JSON.stringify({ message: "look at this", attachments: [{ path: uploadPath, mime_type: "image/png" }] }),
    });
    await answer.finished;
    const chatId = answer.events[0]?.json<{ chat_id: string }>().chat_id ?? "";
    const finishedImage = await call("POST", "/image/generate", { prompt: "a kite", chat_id: chatId });
    await until(
      () => server.services.ledger.get(user.uid, String(finishedImage.body.job_id)),
      (job) => job?.status === "done",
      { timeoutMs: 15_000 },
    );
    const video = await call("POST", "/video/generate", { prompt: "waves", chat_id: chatId, duration_seconds: 4 });
    const image = await call("POST", "/image/generate", { prompt: "a slow one", chat_id: chatId });
    // The image's worker is inside the (slow) provider call, holding its lease.
    await until(
      () => server.services.ledger.get(user.uid, String(image.body.job_id)),
      (job) => job?.status === "running",
    );
    assert.ok(mediaFilesOf(server, user.uid).length > 0);
    assert.ok(
      mediaFilesOf(server, user.uid).some((file) => file.endsWith(".thumbnail.webp")),
      "the finished image's thumbnail, deleted with it below",
    );

    const first = await call("DELETE", `/history/chats/${chatId}`);
    assert.equal(first.status, 200);
    assert.equal(first.body.status, "deleting", "a worker still holds a job of the chat");
    assert.ok((first.body.pending_jobs as number) >= 1);
    assert.equal((await call("GET", `/history/chats/${chatId}`)).status, 404, "hidden at once");
    const listed = (await call("GET", "/history/chats")).body.chats as { chat_id: string }[];
    assert.ok(!listed.some((chat) => chat.chat_id === chatId));
    const refused = await call("POST", "/image/generate", { prompt: "more", chat_id: chatId });
    assert.equal(refused.status, 404, "a chat being deleted takes nothing new");
    // Two active jobs at most: the cancelled one still runs, so it still takes one of them.
    assert.equal((await call("POST", "/image/generate", { prompt: "elsewhere" })).status, 200);
    const overLimit = await call("POST", "/image/generate", { prompt: "elsewhere too" });
    assert.equal(overLimit.status, 429, "the cancelled job still counts until its worker has stopped");

    // The worker finishes its provider call, finds its job cancelled, and drops what it stored.
    const cancelled = await until(
      () => server.services.ledger.get(user.uid, String(image.body.job_id)),
      (job) => job?.status === "error",
      { timeoutMs: 15_000 },
    );
    assert.equal(cancelled?.error_code, "aborted");
    const videoJob = await server.services.ledger.get(user.uid, String(video.body.job_id));
    assert.notEqual(videoJob?.status, "done", "the video was cancelled, not finished");

    const second = await call("DELETE", `/history/chats/${chatId}`);
    assert.equal(second.body.status, "deleted");
    await sleep(2_000);
    assert.deepEqual(await documentsOfChat(chatId), { messages: 0, jobs: 0, requests: 0, chats: 0 });
    const chatJobs = [finishedImage, video, image].map((submitted) => String(submitted.body.job_id));
    const left = mediaFilesOf(server, user.uid).filter(
      (file) => chatJobs.some((jobId) => file.includes(jobId)) || file.endsWith(uploadPath.split("/").at(-1) ?? ""),
    );
    assert.deepEqual(left, [], "no image, video, input copy or upload of the chat is left");
    assert.equal((await call("DELETE", `/history/chats/${chatId}`)).status, 404, "then it is gone");
  });

  it("an interrupted deletion is finished by the sweep", async () => {
    const answer = await openSse(`${server.url}/chat/stream`, {
      method: "POST",
      headers: headers(),
      body: JSON.stringify({ message: "delete me later" }),
    });
    await answer.finished;
    const chatId = answer.events[0]?.json<{ chat_id: string }>().chat_id ?? "";
    // As a deletion cut short right after it began: the chat marked, everything else still there.
    await server.services.database.update(paths.chat(user.uid, chatId), {
      deleting_since: new Date(Date.now() - 1_000),
    });
    assert.equal((await documentsOfChat(chatId)).messages, 2);
    const report = await server.services.cleanup.sweep();
    assert.equal(report.deleted_chats, 1);
    assert.deepEqual(await documentsOfChat(chatId), { messages: 0, jobs: 0, requests: 0, chats: 0 });
    const jobs = await server.services.database.query<JobRecord>({ collection: paths.jobs(user.uid) });
    assert.ok(jobs.every((job) => job.data.chat_id !== chatId));
  });
});
