import assert from "node:assert/strict";
import { join } from "node:path";
import { FileBlobStore } from "../blobs/file-blob-store.ts";
import { paths } from "../store/paths.ts";
import type { JobRecord, MessageRecord, RequestRecord } from "../store/records.ts";
import { startApiServer, type ApiServer } from "../test-support/api-server.ts";
import { authEmulator, type TestUser } from "../test-support/auth-emulator.ts";
import { echoStream, ProviderWireServer } from "../test-support/provider-wire-server.ts";
import { openSse } from "../test-support/sse-client.ts";

/** The maintenance sweep on a seeded store, through `POST /admin/cleanup`, beside live traffic. */
describe("cleanup", function () {
  this.timeout(30_000);
  let gemini: ProviderWireServer;
  let server: ApiServer;
  let admin: TestUser;
  let user: TestUser;
  const minutes = (count: number) => new Date(Date.now() - count * 60_000);
  const minutesAhead = (count: number) => new Date(Date.now() + count * 60_000);
  const days = (count: number) => new Date(Date.now() - count * 86_400_000);

  before(async () => {
    gemini = await ProviderWireServer.start();
    gemini.setDefault("streamGenerateContent", echoStream({ pieceCount: 30, delayMs: 100 }));
    server = await startApiServer({
      GEMINI_API_KEY: "AIzaCleanupTest",
      GEMINI_ENDPOINT: gemini.url,
      REQUEST_RETENTION_DAYS: "1",
      STALE_STREAM_SECONDS: "1",
      // One attempt of 840 s (the longest backoff and the worker timeout) and no dispatch grace: a pending message
      // is looked at after 14 minutes of silence.
      JOB_MAX_ATTEMPTS: "1",
      JOB_DISPATCH_GRACE_SECONDS: "0",
      MEDIA_RETENTION_DAYS: "2",
      UPLOAD_RETENTION_DAYS: "2",
      CLEANUP_BATCH_SIZE: "3",
      STREAM_UPDATE_INTERVAL_MS: "200",
      RATE_LIMIT_FREE: "0",
    });
    const emulator = await authEmulator();
    user = await emulator.createUser();
    admin = await emulator.withClaims(await emulator.createUser(), { admin: true });
  });
  after(async () => {
    await server.close();
    await gemini.close();
  });

  const sweep = async (who: TestUser) => {
    const response = await fetch(`${server.url}/admin/cleanup`, {
      method: "POST",
      headers: { Authorization: `Bearer ${who.idToken}` },
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  /** An assistant message of the test user, as the services would have written it. */
  const putMessage = (
    id: string,
    status: MessageRecord["status"],
    updatedAt: Date,
    extra: Partial<MessageRecord> = {},
  ) =>
    server.services.database.set(paths.message(user.uid, id), {
      message_id: id,
      chat_id: "chat-seeded",
      seq: 1,
      role: "assistant",
      type: "text",
      content: "partial",
      status,
      request_id: `req-${id}`,
      created_at: updatedAt,
      updated_at: updatedAt,
      // As a generator writes it: a streaming message carries its last sign of life.
      ...(status === "streaming" ? { alive_at: updatedAt } : {}),
      ...extra,
    } satisfies MessageRecord);
  /** A job of the test user, not abandoned unless `extra` says so. */
  const putJob = (id: string, status: JobRecord["status"], updatedAt: Date, extra: Partial<JobRecord> = {}) =>
    server.services.database.set(paths.job(user.uid, id), {
      job_id: id,
      kind: "image",
      chat_id: "chat-seeded",
      message_id: `msg-of-${id}`,
      request_id: `req-of-${id}`,
      status,
      prompt: "p",
      model: "m",
      provider: "simulated",
      input: {},
      attempts: 1,
      abandon_at: minutesAhead(60),
      created_at: updatedAt,
      updated_at: updatedAt,
      media_deleted: false,
      ...extra,
    } satisfies JobRecord);

  async function seed() {
    const { database, blobs } = server.services;
    const uid = user.uid;
    const request = (id: string, createdAt: Date) =>
      database.set(paths.request(uid, id), {
        request_id: id,
        kind: "chat",
        payload_hash: "h",
        chat_id: "chat-seeded",
        user_message_id: "m",
        message_id: "m",
        status: "done",
        created_at: createdAt,
        updated_at: createdAt,
        expire_at: createdAt,
      } satisfies RequestRecord);

    for (const index of [1, 2, 3, 4]) await request(`old-request-${String(index)}`, days(2));
    for (const index of [1, 2]) await request(`new-request-${String(index)}`, minutes(5));
    await putMessage("msg-stale-stream-1", "streaming", minutes(5));
    await putMessage("msg-stale-stream-2", "streaming", minutes(5));
    // The last attempt crashed: the lease expired and no retry is left, so abandon_at has passed.
    await putMessage("msg-of-job-stale", "pending", minutes(20), { type: "image", job_id: "job-stale" });
    await putJob("job-stale", "running", minutes(20), {
      lease_owner: "gone",
      lease_expires_at: minutes(15),
      abandon_at: minutes(5),
    });
    // An attempt crashed too, but retries are left: the lease expired, abandon_at has not passed.
    await putMessage("msg-of-job-retrying", "pending", minutes(20), { type: "image", job_id: "job-retrying" });
    await putJob("job-retrying", "running", minutes(20), {
      lease_owner: "gone",
      lease_expires_at: minutes(15),
      abandon_at: minutesAhead(30),
    });
    // Never delivered at all.
    await putMessage("msg-of-job-orphan-running", "pending", minutes(1), {
      type: "image",
      job_id: "job-orphan-running",
    });
    await putJob("job-orphan-running", "queued", minutes(30), { abandon_at: minutes(1) });
    await putJob("job-fresh", "running", minutes(1), { lease_expires_at: minutesAhead(1) });
    // The job finished, but its status never reached the message (a lost trigger).
    await putMessage("msg-of-job-lost-status", "pending", minutes(20), { type: "image", job_id: "job-lost-status" });
    await putJob("job-lost-status", "done", minutes(20), {
      completed_at: minutes(20),
      images: [{ path: `users/${uid}/images/job-lost-status/0.png`, url: "http://x/0.png", mime_type: "image/png" }],
    });
    // Written before jobs carried abandon_at: judged by a whole task's budget after its last write (14 min here).
    await putMessage("msg-of-job-legacy", "pending", minutes(20), { type: "image", job_id: "job-legacy" });
    await database.set(paths.job(uid, "job-legacy"), {
      job_id: "job-legacy",
      kind: "image",
      chat_id: "chat-seeded",
      message_id: "msg-of-job-legacy",
      request_id: "req-of-job-legacy",
      status: "running",
      prompt: "p",
      model: "m",
      provider: "simulated",
      input: {},
      attempts: 1,
      created_at: minutes(20),
      updated_at: minutes(20),
    } satisfies JobRecord);
    await blobs.put(`users/${uid}/inputs/job-stale/image.png`, Buffer.from("png"), "image/png");
    // A pending message whose job is gone.
    await putMessage("msg-of-job-gone", "pending", minutes(20), { type: "image", job_id: "job-gone" });
    for (const id of ["job-old-media-1", "job-old-media-2"]) {
      await putJob(id, "done", days(3), { completed_at: days(3) });
      await putMessage(`msg-of-${id}`, "done", days(3), { type: "image" });
      await blobs.put(`users/${uid}/images/${id}/0.png`, Buffer.from("png"), "image/png");
    }
    await putJob("job-new-media", "done", minutes(5), { completed_at: minutes(5) });
    await blobs.put(`users/${uid}/images/job-new-media/0.png`, Buffer.from("png"), "image/png");
    // Uploads: one stored three days ago (the same files, through a store whose clock is three days behind), one now.
    const storedEarlier = await FileBlobStore.open({
      root: join(server.config.embeddedDataDirectory, "media"),
      baseUrl: server.url,
      urlTtlSeconds: 60,
      now: () => days(3).getTime(),
    });
    await storedEarlier.put(`users/${uid}/uploads/upload-old.png`, Buffer.from("png"), "image/png");
    // Media of a job that no longer exists (a worker crashed between storing and completing): old, and fresh.
    await storedEarlier.put(`users/${uid}/images/job-never-recorded/0.png`, Buffer.from("png"), "image/png");
    await storedEarlier.put(`users/${uid}/videos/job-never-recorded.mp4`, Buffer.from("mp4"), "video/mp4");
    await blobs.put(`users/${uid}/images/job-just-stored/0.png`, Buffer.from("png"), "image/png");
    await blobs.put(`users/${uid}/uploads/upload-new.png`, Buffer.from("png"), "image/png");
  }

  it("refuses anyone but an admin", async () => {
    assert.equal((await sweep(user)).status, 403);
    const anonymous = await fetch(`${server.url}/admin/cleanup`, { method: "POST" });
    assert.equal(anonymous.status, 401);
  });

  it("sweeps in bounded, resumable rounds with exact counts, never touching a live stream, and then finds nothing", async () => {
    await seed();
    const live = await openSse(`${server.url}/chat/stream`, {
      method: "POST",
      headers: { Authorization: `Bearer ${user.idToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({ message: "a long live answer while the sweep runs" }),
    });
    await live.waitFor((event) => event.event === "token");
    await new Promise((resolve) => setTimeout(resolve, 1_200));

    const rounds: Record<string, unknown>[] = [];
    for (;;) {
      const { status, body } = await sweep(admin);
      assert.equal(status, 200);
      rounds.push(body);
      if (body.more !== true) break;
      assert.ok(rounds.length < 5, "the sweep converges");
    }
    const total = (key: string) =>
      rounds.reduce((sum, round) => sum + Number((round.removed as Record<string, number>)[key]), 0);
    assert.equal((rounds[0]?.removed as Record<string, number>).requests, 3, "bounded by CLEANUP_BATCH_SIZE");
    assert.equal(total("requests"), 4);
    assert.equal(total("aborted_streams"), 2);
    assert.equal(
      total("stale_jobs"),
      5,
      "the two abandoned jobs (with their messages), the job from before abandon_at, the message whose status was lost, the message without a job",
    );
    assert.equal(total("media"), 5, "two jobs' images, one old upload, and an old orphan's image and video");

    const { database, blobs } = server.services;
    const get = async <T extends object>(path: string) => (await database.get<T>(path))?.data;
    assert.equal(await get(paths.request(user.uid, "old-request-1")), undefined);
    assert.ok(await get(paths.request(user.uid, "new-request-1")));
    assert.equal((await get<MessageRecord>(paths.message(user.uid, "msg-stale-stream-1")))?.status, "aborted");
    assert.equal((await get<MessageRecord>(paths.message(user.uid, "msg-stale-stream-1")))?.content, "partial");
    assert.equal((await get<MessageRecord>(paths.message(user.uid, "msg-of-job-stale")))?.status, "error");
    assert.equal((await get<JobRecord>(paths.job(user.uid, "job-stale")))?.status, "error");
    assert.equal((await get<JobRecord>(paths.job(user.uid, "job-orphan-running")))?.status, "error");
    assert.equal((await get<MessageRecord>(paths.message(user.uid, "msg-of-job-orphan-running")))?.status, "error");
    assert.equal(
      (await get<JobRecord>(paths.job(user.uid, "job-retrying")))?.status,
      "running",
      "a job whose lease expired with retries left is left to them",
    );
    assert.equal((await get<MessageRecord>(paths.message(user.uid, "msg-of-job-retrying")))?.status, "pending");
    const settled = await get<MessageRecord>(paths.message(user.uid, "msg-of-job-lost-status"));
    assert.equal(settled?.status, "done", "settled with its job's result, not an error");
    assert.equal(settled.images?.[0]?.path, `users/${user.uid}/images/job-lost-status/0.png`);
    assert.equal((await get<MessageRecord>(paths.message(user.uid, "msg-of-job-gone")))?.status, "error");
    assert.equal((await get<JobRecord>(paths.job(user.uid, "job-legacy")))?.status, "error");
    assert.equal((await get<MessageRecord>(paths.message(user.uid, "msg-of-job-legacy")))?.status, "error");
    assert.equal(
      await blobs.stat(`users/${user.uid}/inputs/job-stale/image.png`),
      null,
      "an abandoned job keeps no inputs",
    );
    assert.equal(
      (await get<JobRecord>(paths.job(user.uid, "job-fresh")))?.status,
      "running",
      "a working job is left alone",
    );
    assert.equal(await blobs.stat(`users/${user.uid}/images/job-old-media-1/0.png`), null);
    assert.ok(await blobs.stat(`users/${user.uid}/images/job-new-media/0.png`));
    assert.equal(await blobs.stat(`users/${user.uid}/uploads/upload-old.png`), null);
    assert.ok(await blobs.stat(`users/${user.uid}/uploads/upload-new.png`));
    assert.equal(await blobs.stat(`users/${user.uid}/images/job-never-recorded/0.png`), null, "an orphan is found");
    assert.equal(await blobs.stat(`users/${user.uid}/videos/job-never-recorded.mp4`), null);
    assert.ok(await blobs.stat(`users/${user.uid}/images/job-just-stored/0.png`), "too young to be taken for one");
    assert.equal((await get<JobRecord>(paths.job(user.uid, "job-old-media-1")))?.media_deleted, true);
    assert.equal((await get<MessageRecord>(paths.message(user.uid, "msg-of-job-old-media-1")))?.media_expired, true);

    const again = await sweep(admin);
    assert.deepEqual(again.body, {
      ok: true,
      removed: { requests: 0, deleted_chats: 0, aborted_streams: 0, stale_jobs: 0, media: 0 },
      more: false,
    });

    await live.finished;
    assert.equal(live.events.at(-1)?.event, "done", "the live stream was never touched");
  });

  it("runs safely beside itself: two concurrent sweeps change each thing once", async () => {
    for (const index of [1, 2]) {
      await putMessage(`msg-race-${String(index)}`, "streaming", minutes(10), {
        chat_id: "chat-race",
        seq: index,
        content: "",
        request_id: "r",
      });
    }
    const [first, second] = await Promise.all([sweep(admin), sweep(admin)]);
    const aborted = [first, second].reduce(
      (sum, result) => sum + Number((result.body.removed as Record<string, number>).aborted_streams),
      0,
    );
    assert.equal(aborted, 2);
  });

  it("does not ask for more rounds when a whole batch of pending messages belongs to jobs that are still live", async () => {
    for (const index of [1, 2, 3, 4]) {
      const jobId = `job-live-${String(index)}`;
      await putMessage(`msg-of-${jobId}`, "pending", minutes(30), {
        chat_id: "chat-live",
        seq: index,
        type: "image",
        content: "",
        request_id: `req-of-${jobId}`,
        job_id: jobId,
      });
      // Claimed again a minute ago: its retries are still coming.
      await putJob(jobId, "running", minutes(1), {
        chat_id: "chat-live",
        attempts: 2,
        abandon_at: minutesAhead(20),
        created_at: minutes(30),
      });
    }
    const { body } = await sweep(admin);
    assert.equal((body.removed as Record<string, number>).stale_jobs, 0);
    assert.equal(body.more, false, "another round would find the same live jobs");
  });
});
