import { Pricing } from "../models/pricing.ts";
import { BUILT_IN_PRICES } from "../models/price-table.ts";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileBlobStore } from "../blobs/file-blob-store.ts";
import { loadRuntimeConfig } from "../config/runtime-config.ts";
import type { DocumentDatabase } from "../database/document-database.ts";
import { openSqliteDocumentDatabase } from "../database/sqlite-document-database.ts";
import { Logger } from "../logging/logger.ts";
import { decodeRgba, solidPng } from "../test-support/test-images.ts";
import { sampleMp4 } from "../test-support/test-videos.ts";
import { NanoBananaImageProvider } from "../providers/google/nano-banana-image-provider.ts";
import { OmniVideoProvider } from "../providers/google/omni-video-provider.ts";
import { VeoVideoProvider } from "../providers/google/veo-video-provider.ts";
import { modelChoices } from "../runtime/services.ts";
import { InProcessTaskQueue } from "../queue/in-process-task-queue.ts";
import { taskId, type JobTask } from "../queue/task-queue.ts";
import { paths } from "../store/paths.ts";
import type { JobRecord, MessageRecord, RequestRecord } from "../store/records.ts";
import type { JobKind } from "../contract/resources.ts";
import {
  googleError,
  interaction,
  jsonResponse,
  ProviderWireServer,
  videoSteps,
} from "../test-support/provider-wire-server.ts";
import { abandonDeadline, type DeliveryBudget } from "./delivery-budget.ts";
import { JobLedger } from "./job-ledger.ts";
import { propagateJobStatus } from "./job-status-propagation.ts";
import { JobWorker, RetryLaterError, type JobWorkerOptions } from "./job-worker.ts";
import { seedJob } from "../test-support/seed-job.ts";
import { until } from "../test-support/until.ts";

/**
 * The workers' delivery semantics, with the test playing Cloud Tasks: it delivers tasks (again, concurrently,
 * late) straight to the worker. Everything else is real: SQLite, files, the SDK adapters against a local Gemini
 * wire-format server, status propagation.
 */
describe("job workers", function () {
  this.timeout(30_000);
  let directory: string;
  let database: DocumentDatabase;
  let blobs: FileBlobStore;
  let server: ProviderWireServer;
  let queue: InProcessTaskQueue;
  let worker: JobWorker;
  let ledger: JobLedger;
  const uid = "worker-user";
  const models = modelChoices(loadRuntimeConfig({}));
  /** Polls a second apart; a video unfinished after 30 s fails. */
  const options: JobWorkerOptions = {
    image: { maskFeatherPx: 3, thumbnailMaxPx: 384 },
    video: { pollIntervalSeconds: 1, maxWaitMs: 30_000 },
  };
  /** Cloud Tasks' five deliveries per task and ten minutes' dispatch grace (the defaults). */
  const budget: DeliveryBudget = { maxAttempts: 5, dispatchGraceMs: 600_000 };
  const videoProviders = () => ({
    veo: new VeoVideoProvider({ apiKey: "AIzaWorkerTest", baseUrl: server.url }),
    omni: new OmniVideoProvider({ apiKey: "AIzaWorkerTest", baseUrl: server.url, requestTimeoutMs: 5_000 }),
  });
  let png: Buffer;

  before(async () => {
    png = await solidPng(4, 4, { r: 10, g: 200, b: 30 });
    directory = mkdtempSync(join(tmpdir(), "atelier-workers-"));
    database = await openSqliteDocumentDatabase(join(directory, "db.sqlite"));
    blobs = await FileBlobStore.open({
      root: join(directory, "media"),
      baseUrl: "http://localhost",
      urlTtlSeconds: 3600,
    });
    server = await ProviderWireServer.start();
    ledger = new JobLedger(database, {
      leaseMs: 1_000,
      delivery: budget,
      now: Date.now,
      afterWrite: async (owner, job) => {
        await propagateJobStatus(database, owner, job, new Date());
      },
    });
    queue = new InProcessTaskQueue({ maxAttempts: 3, backoffMs: 10 });
    worker = new JobWorker({
      ledger,
      blobs,
      queue,
      images: new NanoBananaImageProvider({ apiKey: "AIzaWorkerTest", baseUrl: server.url }),
      videos: videoProviders(),
      models,
      pricing: new Pricing(BUILT_IN_PRICES),
      options,
      logger: new Logger({ sink: () => undefined }),
      now: Date.now,
    });
    for (const name of ["imageWorker", "videoWorker"] as const) {
      queue.register(name, (task, delivery) => worker.handle(name, task, delivery));
    }
  });
  after(async () => {
    await queue.close();
    await server.close();
    await database.close();
    rmSync(directory, { recursive: true, force: true });
  });
  beforeEach(() => server.reset());

  const newJob = (
    kind: JobKind,
    requestId: string,
    models: { model?: string; fallbackModels?: string[]; input?: Record<string, unknown> } = {},
  ) => seedJob(database, { uid, requestId, kind, prompt: "a lighthouse at dusk", provider: "live", ...models });

  const task = (job: JobRecord): JobTask => ({ uid, job_id: job.job_id, phase: "start" });
  const delivery = (retryCount = 0) => ({ retryCount, maxAttempts: 3 });
  const message = async (job: JobRecord) =>
    (await database.get<MessageRecord>(paths.message(uid, job.message_id)))?.data;
  const request = async (job: JobRecord) =>
    (await database.get<RequestRecord>(paths.request(uid, job.request_id)))?.data;
  const imageAnswer = () => ({
    candidates: [
      {
        content: { parts: [{ inlineData: { mimeType: "image/png", data: png.toString("base64") } }] },
        finishReason: "STOP",
      },
    ],
  });
  const slowImage = (delayMs: number) =>
    server.setDefault("generateContent", async (_, response) => {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      jsonResponse(response, 200, imageAnswer());
    });

  describe("image jobs", () => {
    it("draw with the next model of the chain when the first is rate limited, and say so on the message", async () => {
      server
        .next("generateContent", (_, response) =>
          jsonResponse(response, 429, googleError(429, "RESOURCE_EXHAUSTED", "quota")),
        )
        .next("generateContent", (_, response) => jsonResponse(response, 200, imageAnswer()));
      const job = await newJob("image", "img-fallback", {
        model: "gemini-nano-banana-2.1",
        fallbackModels: ["gemini-3.1-flash-lite-image"],
      });
      await worker.handle("imageWorker", task(job), delivery());
      assert.deepEqual(
        server.requests.map((recorded) => recorded.model),
        ["gemini-nano-banana-2.1", "gemini-3.1-flash-lite-image"],
      );
      const done = await ledger.get(uid, job.job_id);
      assert.equal(done?.status, "done");
      assert.equal(done.model, "gemini-3.1-flash-lite-image");
      assert.equal(done.fallback_from, "gemini-nano-banana-2.1");
      const answer = await message(job);
      assert.equal(answer?.model, "gemini-3.1-flash-lite-image");
      assert.equal(answer.fallback_from, "gemini-nano-banana-2.1");
    });

    it("generate, store the image and carry it onto the message and request", async () => {
      slowImage(0);
      const job = await newJob("image", "img-happy");
      await worker.handle("imageWorker", task(job), delivery());
      const done = await ledger.get(uid, job.job_id);
      assert.equal(done?.status, "done");
      assert.equal(done.images?.length, 1);
      assert.equal(done.images[0]?.path, `users/${uid}/images/${job.job_id}/0.png`);
      assert.deepEqual([done.images[0].width, done.images[0].height], [4, 4]);
      const stored = (await blobs.get(`users/${uid}/images/${job.job_id}/0.png`))?.bytes ?? assert.fail("not stored");
      assert.deepEqual((await decodeRgba(stored)).data, (await decodeRgba(png)).data, "the model's pixels, re-encoded");
      const answer = await message(job);
      assert.equal(answer?.status, "done");
      assert.equal(answer.images?.[0]?.mime_type, "image/png");
      assert.equal((await request(job))?.status, "done");
    });

    it("do one generation when the same task is delivered twice at once, and none when delivered after completion", async () => {
      slowImage(400);
      const job = await newJob("image", "img-duplicate");
      const outcomes = await Promise.allSettled([
        worker.handle("imageWorker", task(job), delivery()),
        new Promise((resolve) => setTimeout(resolve, 100)).then(() =>
          worker.handle("imageWorker", task(job), delivery()),
        ),
      ]);
      assert.equal(outcomes[0].status, "fulfilled");
      assert.ok(
        outcomes[1].status === "rejected" && outcomes[1].reason instanceof RetryLaterError,
        "the duplicate waits",
      );
      await worker.handle("imageWorker", task(job), delivery(1));
      assert.equal(server.count("generateContent"), 1, "one generation");
      assert.equal(await blobs.deletePrefix(`users/${uid}/images/${job.job_id}/`), 2, "one picture and its thumbnail");
      assert.equal((await ledger.get(uid, job.job_id))?.attempts, 1);
    });

    it("take over a job whose worker crashed once its lease expires", async () => {
      slowImage(0);
      const job = await newJob("image", "img-crash");
      const crashed = await ledger.claim(uid, job.job_id, "worker-that-crashed", delivery(0));
      assert.equal(crashed.outcome, "claimed");
      await assert.rejects(worker.handle("imageWorker", task(job), delivery(0)), RetryLaterError);
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      await worker.handle("imageWorker", task(job), delivery(1));
      const done = await ledger.get(uid, job.job_id);
      assert.equal(done?.status, "done");
      assert.equal(done.attempts, 2);
      assert.equal(
        await ledger.complete(uid, job.job_id, "worker-that-crashed", {}),
        undefined,
        "the crashed worker cannot write",
      );
    });

    it("schedule a takeover when the last delivery finds the job leased, so a crashed holder never strands it", async () => {
      slowImage(0);
      const job = await newJob("image", "img-takeover");
      const crashed = await ledger.claim(uid, job.job_id, "worker-that-crashed", delivery(0));
      assert.equal(crashed.outcome, "claimed");
      await worker.handle("imageWorker", task(job), delivery(2));
      const waiting = await ledger.get(uid, job.job_id);
      assert.ok(crashed.job.lease_expires_at);
      assert.ok(
        (waiting?.abandon_at?.getTime() ?? 0) >= ledger.deadline({ at: crashed.job.lease_expires_at }).getTime(),
        "the deadline covers the takeover task",
      );
      const done = await until(
        () => ledger.get(uid, job.job_id),
        (current) => current?.status === "done",
        { timeoutMs: 10_000, what: "the takeover" },
      );
      assert.equal(done?.attempts, 2);
    });

    it("throw transient provider failures for Cloud Tasks to retry, then end the job on the last attempt", async () => {
      server.setDefault("generateContent", (_, response) =>
        jsonResponse(response, 503, googleError(503, "UNAVAILABLE", "busy")),
      );
      const job = await newJob("image", "img-transient");
      await assert.rejects(worker.handle("imageWorker", task(job), delivery(0)), RetryLaterError);
      const between = await ledger.get(uid, job.job_id);
      assert.equal(between?.status, "running");
      assert.ok((between.lease_expires_at?.getTime() ?? Infinity) <= Date.now(), "the lease was given back");
      await assert.rejects(worker.handle("imageWorker", task(job), delivery(1)), RetryLaterError);
      await worker.handle("imageWorker", task(job), delivery(2));
      const failed = await ledger.get(uid, job.job_id);
      assert.equal(failed?.status, "error");
      assert.equal(failed.error_code, "unavailable");
      assert.equal((await message(job))?.status, "error");
      assert.equal((await request(job))?.status, "error");
      assert.equal(typeof (await request(job))?.error, "string");
    });

    it("end the job at once on a permanent failure, with a user-safe message", async () => {
      server.setDefault("generateContent", (_, response) =>
        jsonResponse(response, 200, { promptFeedback: { blockReason: "PROHIBITED_CONTENT" } }),
      );
      const job = await newJob("image", "img-blocked");
      const inputCopy = `users/${uid}/inputs/${job.job_id}/image.png`;
      await blobs.put(inputCopy, png, "image/png");
      await worker.handle("imageWorker", task(job), delivery(0));
      const failed = await ledger.get(uid, job.job_id);
      assert.equal(failed?.status, "error");
      assert.equal(failed.error_code, "blocked");
      assert.match(failed.error ?? "", /safety/);
      assert.equal(server.count("generateContent"), 1);
      assert.equal(await blobs.stat(inputCopy), null, "a failed job keeps no input copies");
    });
  });

  describe("video jobs", () => {
    /** A Veo operation that has finished with one video, to be downloaded from the file `fileId`. */
    const finishedOperation = (fileId: string) => ({
      name: operation,
      done: true,
      response: {
        generateVideoResponse: {
          generatedSamples: [
            { video: { uri: `https://generativelanguage.googleapis.com/v1beta/files/${fileId}:download?alt=media` } },
          ],
        },
      },
    });

    const operation = "models/veo-3.1-generate-preview/operations/op-worker";
    /** A worker on a queue nobody listens to: only the deliveries the test makes reach it. */
    const silentWorker = (silentQueue = new InProcessTaskQueue({ maxAttempts: 1 })) =>
      new JobWorker({
        ledger,
        blobs,
        queue: silentQueue,
        images: undefined,
        videos: videoProviders(),
        models,
        pricing: new Pricing(BUILT_IN_PRICES),
        options,
        logger: new Logger({ sink: () => undefined }),
        now: Date.now,
      });

    it("start the operation, poll it from delayed tasks, and store the video", async () => {
      let polls = 0;
      server
        .setDefault("predictLongRunning", (_, response) => jsonResponse(response, 200, { name: operation }))
        .setDefault("operation", (_, response) => {
          polls += 1;
          jsonResponse(response, 200, polls < 2 ? { name: operation } : finishedOperation("vid123"));
        })
        .setDefault("download", (_, response) => {
          response.writeHead(200, { "Content-Type": "video/mp4" });
          response.end(clip);
        });
      const clip = await sampleMp4(64, 48, 2);
      const job = await newJob("video", "vid-happy");
      await queue.enqueue("videoWorker", task(job), { id: job.job_id });
      const started = await until(
        () => ledger.get(uid, job.job_id),
        (current) => current?.operation_name !== undefined,
      );
      assert.equal(started?.operation_name, operation);
      assert.ok((started.progress ?? 0) > 0);
      const done = await until(
        () => ledger.get(uid, job.job_id),
        (current) => current?.status === "done",
        { timeoutMs: 15_000 },
      );
      assert.equal(done?.video_path, `users/${uid}/videos/${job.job_id}.mp4`);
      assert.equal((await blobs.get(done.video_path ?? ""))?.contentType, "video/mp4");
      assert.equal(server.count("predictLongRunning"), 1, "started once");
      assert.ok(polls >= 2);
      const answer = await message(job);
      assert.equal(answer?.status, "done");
      assert.equal(answer.video_path, done.video_path);
      // What ffprobe read, and the poster beside the video.
      assert.deepEqual([done.duration_seconds, done.width, done.height], [2, 64, 48]);
      assert.equal(done.poster_path, `users/${uid}/videos/${job.job_id}.poster.webp`);
      assert.equal((await blobs.get(done.poster_path))?.contentType, "image/webp");
      assert.deepEqual([answer.poster_path, answer.duration_seconds], [done.poster_path, 2]);
    });

    it("end a video that is not a readable video as unavailable, storing nothing", async () => {
      server
        .setDefault("predictLongRunning", (_, response) => jsonResponse(response, 200, { name: operation }))
        .setDefault("operation", (_, response) => jsonResponse(response, 200, finishedOperation("bad1")))
        .setDefault("download", (_, response) => {
          response.writeHead(200, { "Content-Type": "video/mp4" });
          response.end(Buffer.from("these bytes are not a video"));
        });
      const silent = silentWorker();
      const job = await newJob("video", "vid-unreadable");
      await silent.handle("videoWorker", task(job), delivery());
      await silent.handle("videoWorker", { ...task(job), phase: "poll", poll: 1 }, delivery());
      const failed = await ledger.get(uid, job.job_id);
      assert.equal(failed?.status, "error");
      assert.equal(failed.error_code, "unavailable");
      assert.equal(await blobs.deletePrefix(`users/${uid}/videos/${job.job_id}.`), 0, "nothing stored");
    });

    it("end the job with a clean error when Veo reports op.error", async () => {
      server
        .setDefault("predictLongRunning", (_, response) => jsonResponse(response, 200, { name: operation }))
        .setDefault("operation", (_, response) =>
          jsonResponse(response, 200, {
            name: operation,
            done: true,
            error: { code: 13, message: "internal failure" },
          }),
        );
      const silent = silentWorker();
      const job = await newJob("video", "vid-op-error");
      await silent.handle("videoWorker", task(job), delivery());
      await silent.handle("videoWorker", { ...task(job), phase: "poll", poll: 1 }, delivery(2));
      const failed = await ledger.get(uid, job.job_id);
      assert.equal(failed?.status, "error");
      assert.doesNotMatch(failed.error ?? "", /internal failure/, "Veo's own text stays out");
    });

    it("run an Omni video through its background interaction and keep the interaction for later edits", async () => {
      const clip = await sampleMp4();
      let polls = 0;
      server
        .setDefault("createInteraction", (_, response) => jsonResponse(response, 200, interaction("v1_omni", "queued")))
        .setDefault("getInteraction", (_, response) => {
          polls += 1;
          jsonResponse(
            response,
            200,
            polls < 2
              ? interaction("v1_omni", "in_progress")
              : interaction("v1_omni", "completed", { steps: videoSteps("lighthouse", { data: clip }) }),
          );
        });
      const silent = silentWorker();
      const job = await newJob("video", "vid-omni", { model: "gemini-omni-1.1-flash" });
      await silent.handle("videoWorker", task(job), delivery());
      const started = await ledger.get(uid, job.job_id);
      assert.equal(started?.operation_name, "v1_omni");
      assert.equal(started.interaction_id, "v1_omni");
      await silent.handle("videoWorker", { ...task(job), phase: "poll", poll: 1 }, delivery());
      assert.equal((await ledger.get(uid, job.job_id))?.status, "running");
      await silent.handle("videoWorker", { ...task(job), phase: "poll", poll: 2 }, delivery());
      const done = await ledger.get(uid, job.job_id);
      assert.equal(done?.status, "done");
      assert.deepEqual((await blobs.get(done.video_path ?? ""))?.bytes, clip);
      assert.equal(server.count("predictLongRunning"), 0, "Veo is not involved");
      assert.equal((await message(job))?.model, "gemini-omni-1.1-flash");
    });

    it("continue an earlier Omni video: the new interaction names the previous one", async () => {
      server.setDefault("createInteraction", (_, response) =>
        jsonResponse(response, 200, interaction("v1_next", "queued")),
      );
      const job = await newJob("video", "vid-omni-continue", {
        model: "gemini-omni-1.1-flash",
        input: { previous_interaction_id: "v1_first", previous_job_id: "videojob-first" },
      });
      await silentWorker().handle("videoWorker", task(job), delivery());
      const body = server.requests.find((recorded) => recorded.kind === "createInteraction")?.body as Record<
        string,
        unknown
      >;
      assert.equal(body.previous_interaction_id, "v1_first");
      assert.equal((await ledger.get(uid, job.job_id))?.interaction_id, "v1_next");
    });

    it("end an Omni job blocked when the interaction fails for safety, with no retry", async () => {
      server
        .setDefault("createInteraction", (_, response) => jsonResponse(response, 200, interaction("v1_bad", "queued")))
        .setDefault("getInteraction", (_, response) =>
          jsonResponse(response, 200, interaction("v1_bad", "failed", { errors: [{ code: "SAFETY", message: "no" }] })),
        );
      const silent = silentWorker();
      const job = await newJob("video", "vid-omni-blocked", { model: "gemini-omni-1.1-flash" });
      await silent.handle("videoWorker", task(job), delivery());
      await silent.handle("videoWorker", { ...task(job), phase: "poll", poll: 1 }, delivery());
      const failed = await ledger.get(uid, job.job_id);
      assert.equal(failed?.status, "error");
      assert.equal(failed.error_code, "blocked");
    });

    it("start on the next model of the chain when Omni is out of quota, and poll that model's provider", async () => {
      server
        .setDefault("createInteraction", (_, response) =>
          jsonResponse(response, 429, googleError(429, "RESOURCE_EXHAUSTED", "quota")),
        )
        .setDefault("predictLongRunning", (_, response) => jsonResponse(response, 200, { name: operation }))
        .setDefault("operation", (_, response) => jsonResponse(response, 200, { name: operation }));
      const silent = silentWorker();
      const job = await newJob("video", "vid-fallback", {
        model: "gemini-omni-1.1-flash",
        fallbackModels: ["veo-3.1-fast-generate-preview"],
      });
      await silent.handle("videoWorker", task(job), delivery());
      const started = await ledger.get(uid, job.job_id);
      assert.equal(started?.model, "veo-3.1-fast-generate-preview");
      assert.equal(started.fallback_from, "gemini-omni-1.1-flash");
      assert.equal(started.operation_name, operation);
      assert.equal(
        server.requests.find((request) => request.kind === "predictLongRunning")?.model,
        "veo-3.1-fast-generate-preview",
      );
      await silent.handle("videoWorker", { ...task(job), phase: "poll", poll: 1 }, delivery());
      assert.equal(server.count("operation"), 1, "the poll goes to Veo, which started the video");
      assert.equal(server.count("getInteraction"), 0);
    });

    it("end the job when a generation never finishes within the longest wait, Omni as Veo", async () => {
      server
        .setDefault("createInteraction", (_, response) => jsonResponse(response, 200, interaction("v1_slow", "queued")))
        .setDefault("getInteraction", (_, response) =>
          jsonResponse(response, 200, interaction("v1_slow", "in_progress")),
        );
      let clock = Date.now();
      const late = new JobWorker({
        ledger,
        blobs,
        queue: new InProcessTaskQueue({ maxAttempts: 1 }),
        images: undefined,
        videos: videoProviders(),
        models,
        pricing: new Pricing(BUILT_IN_PRICES),
        options,
        logger: new Logger({ sink: () => undefined }),
        now: () => clock,
      });
      const job = await newJob("video", "vid-omni-never", { model: "gemini-omni-1.1-flash" });
      await late.handle("videoWorker", task(job), delivery());
      clock += options.video.maxWaitMs + 5_000;
      await late.handle("videoWorker", { ...task(job), phase: "poll", poll: 1 }, delivery(2));
      const failed = await ledger.get(uid, job.job_id);
      assert.equal(failed?.status, "error");
      assert.equal(failed.error_code, "unavailable");
      assert.match(failed.error ?? "", /took too long/);
    });

    it("ignore a repeated poll that already ran", async () => {
      server
        .setDefault("predictLongRunning", (_, response) => jsonResponse(response, 200, { name: operation }))
        .setDefault("operation", (_, response) => jsonResponse(response, 200, { name: operation }));
      const silent = silentWorker();
      const job = await newJob("video", "vid-repeat");
      await silent.handle("videoWorker", task(job), delivery());
      await silent.handle("videoWorker", { ...task(job), phase: "poll", poll: 1 }, delivery());
      const polled = server.count("operation");
      await silent.handle("videoWorker", { ...task(job), phase: "poll", poll: 1 }, delivery());
      assert.equal(server.count("operation"), polled, "no second poll for poll 1");
      assert.equal((await ledger.get(uid, job.job_id))?.poll_count, 1);

      // Poll 1's run may have died between recording itself and enqueueing poll 2: a repeat enqueues it again.
      const freshQueue = new InProcessTaskQueue({ maxAttempts: 1 });
      await silentWorker(freshQueue).handle("videoWorker", { ...task(job), phase: "poll", poll: 1 }, delivery());
      const successor = { ...task(job), phase: "poll" as const, poll: 2 };
      assert.equal(
        await freshQueue.enqueue("videoWorker", successor, { id: taskId(job.job_id, "poll", "2") }),
        "duplicate",
        "poll 2 was enqueued by the repeat",
      );
      await ledger.fail(uid, job.job_id, { code: "aborted", message: "test over" });
    });

    it("give a job waiting for its next poll a new task's whole budget from the poll's time", async () => {
      server
        .setDefault("predictLongRunning", (_, response) => jsonResponse(response, 200, { name: operation }))
        .setDefault("operation", (_, response) => jsonResponse(response, 200, { name: operation }));
      const job = await newJob("video", "vid-abandon");
      await silentWorker().handle("videoWorker", task(job), delivery(2));
      const waiting = await ledger.get(uid, job.job_id);
      assert.ok(waiting?.next_poll_at);
      assert.equal(
        waiting.abandon_at?.getTime(),
        abandonDeadline({ at: waiting.next_poll_at, attemptsLeft: budget.maxAttempts }, budget).getTime(),
        "the start task's last attempt succeeded; the poll task has all its attempts",
      );
      await ledger.fail(uid, job.job_id, { code: "aborted", message: "test over" });
    });
  });

  /** `abandon_at`: with no write by then, no delivery can still come, and the cleanup sweep may end the job. */
  describe("abandonment deadline", () => {
    it("moves with each claim to the attempts the claiming task has left", async () => {
      const job = await newJob("image", "abandon-claim");
      const claim = await ledger.claim(uid, job.job_id, "claiming-worker", delivery(1));
      assert.equal(claim.outcome, "claimed");
      const claimed = claim.job;
      assert.equal(
        claimed.abandon_at?.getTime(),
        abandonDeadline({ at: claimed.updated_at, attemptsLeft: 2 }, budget).getTime(),
        "three attempts, the second is running: this one and one more may still run",
      );
      const last = await ledger.claim(uid, job.job_id, "claiming-worker", delivery(2));
      assert.equal(last.outcome, "claimed");
      assert.equal(
        last.job.abandon_at?.getTime(),
        abandonDeadline({ at: last.job.updated_at, attemptsLeft: 1 }, budget).getTime(),
        "the last attempt: abandoned once it can no longer be running",
      );
      await ledger.fail(uid, job.job_id, { code: "aborted", message: "test over" });
    });

    it("counts one attempt fewer when a transient failure gives the job back for a retry", async () => {
      server.setDefault("generateContent", (_, response) =>
        jsonResponse(response, 503, googleError(503, "UNAVAILABLE", "busy")),
      );
      const job = await newJob("image", "abandon-retry");
      const before = new Date();
      await assert.rejects(worker.handle("imageWorker", task(job), delivery(0)), RetryLaterError);
      const after = new Date();
      const released = await ledger.get(uid, job.job_id);
      const deadline = released?.abandon_at?.getTime() ?? 0;
      assert.ok(deadline >= abandonDeadline({ at: before, attemptsLeft: 2 }, budget).getTime());
      assert.ok(deadline <= abandonDeadline({ at: after, attemptsLeft: 2 }, budget).getTime());
      await ledger.fail(uid, job.job_id, { code: "aborted", message: "test over" });
    });
  });

  describe("status propagation", () => {
    it("only moves forward: a late event never moves a finished message back", async () => {
      slowImage(0);
      const job = await newJob("image", "img-forward");
      await worker.handle("imageWorker", task(job), delivery());
      const finished = await message(job);
      const stale: JobRecord = { ...job, status: "running", progress: 0.3 };
      assert.deepEqual(await propagateJobStatus(database, uid, stale, new Date()), { message: false, request: false });
      assert.deepEqual(await message(job), finished);
      assert.equal((await request(job))?.status, "done");
    });

    it("raises progress but never lowers it", async () => {
      const job = await newJob("image", "img-progress");
      await propagateJobStatus(database, uid, { ...job, status: "running", progress: 0.6 }, new Date());
      await propagateJobStatus(database, uid, { ...job, status: "running", progress: 0.2 }, new Date());
      assert.equal((await message(job))?.progress, 0.6);
      assert.equal((await request(job))?.status, "running");
    });
  });
});
