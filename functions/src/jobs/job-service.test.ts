import { Pricing } from "../models/pricing.ts";
import { BUILT_IN_PRICES } from "../models/price-table.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { FileBlobStore } from "../blobs/file-blob-store.ts";
import { loadRuntimeConfig } from "../config/runtime-config.ts";
import type { DocumentDatabase } from "../database/document-database.ts";
import { openSqliteDocumentDatabase } from "../database/sqlite-document-database.ts";
import { AppError } from "../errors/app-error.ts";
import { Logger } from "../logging/logger.ts";
import { solidPng } from "../test-support/test-images.ts";
import { InProcessTaskQueue } from "../queue/in-process-task-queue.ts";
import { modelChoices } from "../runtime/services.ts";
import { paths } from "../store/paths.ts";
import type { ChatRecord, JobRecord, MessageRecord, RequestRecord } from "../store/records.ts";
import { removeDirectory, temporaryDirectory, testUser } from "../test-support/chat-core.ts";
import { JobLedger } from "./job-ledger.ts";
import { JobService, type JobServiceOptions } from "./job-service.ts";

/**
 * Submitting image and video jobs (`JobService`), in this process, on the embedded store, with a task queue nobody
 * works (so every job stays queued, as while the workers are busy): what a submission writes and enqueues, and the
 * limits of its options, checked before anything is written. (The workers are `job-worker.test.ts`; the routes
 * and whole runs, `jobs-api.test.ts`.)
 */
describe("submitting a job", function () {
  this.timeout(30_000);
  let directory: string;
  let database: DocumentDatabase;
  let queue: InProcessTaskQueue;
  let jobs: JobService;
  const options: JobServiceOptions = {
    limits: {
      maxMessageChars: 2_000,
      maxAttachments: 4,
      maxPromptChars: 100,
      imageMaxCount: 2,
      videoMaxDurationSeconds: 8,
    },
    quotas: {
      monthly: { free: 0, paid: 0 },
      budgets: { free: 0, paid: 0 },
      activeJobsPerUser: 3,
      activeJobsPerChat: 2,
    },
    inputImage: { maxBytes: 4_000, maxDimension: 16 },
    requestRetentionDays: 3,
  };
  const png = async (width: number, height: number) =>
    (await solidPng(width, height, { r: 200, g: 40, b: 40 })).toString("base64");
  const rejectsWith = (code: string, details?: Record<string, unknown>) => (error: unknown) => {
    assert.ok(error instanceof AppError, String(error));
    assert.equal(error.code, code);
    if (details !== undefined) assert.deepEqual({ ...error.details, ...details }, error.details);
    return true;
  };

  before(async () => {
    directory = temporaryDirectory("atelier-job-service-");
    database = await openSqliteDocumentDatabase(join(directory, "atelier.db"));
    const blobs = await FileBlobStore.open({
      root: join(directory, "media"),
      baseUrl: "http://127.0.0.1:1/api",
      urlTtlSeconds: 3_600,
    });
    queue = new InProcessTaskQueue({ maxAttempts: 1 });
    const ledger = new JobLedger(database, {
      leaseMs: 300_000,
      delivery: { maxAttempts: 5, dispatchGraceMs: 600_000 },
      now: Date.now,
    });
    jobs = new JobService({
      database,
      blobs,
      queue,
      ledger,
      options,
      logger: new Logger({ sink: () => undefined }),
      now: Date.now,
      // Embedded mode without keys: the catalogue's models, run by the labelled simulations.
      models: modelChoices(loadRuntimeConfig({})),
      pricing: new Pricing(BUILT_IN_PRICES),
      providers: { image: "simulated", video: "simulated" },
    });
  });
  after(async () => {
    await queue.close();
    await database.close();
    removeDirectory(directory);
  });

  it("writes the chat, a pending message and a queued job, enqueues its task once, and answers with their ids", async () => {
    const user = testUser("jobs-writes");
    const submission = await jobs.submitImage(user, { prompt: "a red kite", count: 2, request_id: "job-writes-1" });
    assert.equal(submission.status, "queued");
    assert.equal(submission.request_id, "job-writes-1");
    const job = (await database.get<JobRecord>(paths.job(user.uid, submission.job_id)))?.data;
    assert.equal(job?.status, "queued");
    assert.equal(job.input.count, 2);
    const message = (await database.get<MessageRecord>(paths.message(user.uid, submission.message_id)))?.data;
    assert.deepEqual([message?.type, message?.status, message?.job_id], ["image", "pending", submission.job_id]);
    assert.equal((await database.get<ChatRecord>(paths.chat(user.uid, submission.chat_id)))?.data.title, "a red kite");
    const request = (await database.get<RequestRecord>(paths.request(user.uid, "job-writes-1")))?.data;
    assert.equal(
      (request?.expire_at.getTime() ?? 0) - (request?.created_at.getTime() ?? 0),
      options.requestRetentionDays * 86_400_000,
    );
    const task = { uid: user.uid, job_id: submission.job_id, phase: "start" as const };
    assert.equal(await queue.enqueue("imageWorker", task, { id: submission.job_id }), "duplicate", "already queued");
  });

  it("refuses prompts and counts beyond its limits, writing nothing", async () => {
    const user = testUser("jobs-limits");
    await assert.rejects(jobs.submitImage(user, { prompt: "x".repeat(101) }), rejectsWith("invalid_argument"));
    await assert.rejects(jobs.submitImage(user, { prompt: "three", count: 3 }), rejectsWith("invalid_argument"));
    await assert.rejects(
      jobs.submitVideo(user, { prompt: "too long", duration_seconds: 9 }),
      rejectsWith("invalid_argument"),
    );
    assert.deepEqual(await database.query({ collection: paths.chats(user.uid) }), []);
  });

  it("refuses an input image over its byte or dimension limit", async () => {
    const user = testUser("jobs-images");
    await assert.rejects(
      jobs.submitImageEdit(user, { prompt: "too wide", image: { data: await png(17, 4), mime_type: "image/png" } }),
      rejectsWith("invalid_argument"),
    );
    await assert.rejects(
      jobs.submitImageEdit(user, {
        prompt: "too heavy",
        image: { data: Buffer.alloc(4_100, 7).toString("base64"), mime_type: "image/png" },
      }),
      rejectsWith("payload_too_large", { limit_bytes: 4_000 }),
    );
    const accepted = await jobs.submitImageEdit(user, {
      prompt: "just right",
      image: { data: await png(16, 16), mime_type: "image/png" },
    });
    assert.equal(accepted.status, "queued");
  });

  it("refuses more unfinished jobs in a chat, and for a user, than its quotas allow", async () => {
    const user = testUser("jobs-quotas");
    const first = await jobs.submitImage(user, { prompt: "one" });
    await jobs.submitImage(user, { prompt: "two", chat_id: first.chat_id });
    await assert.rejects(
      jobs.submitImage(user, { prompt: "three in one chat", chat_id: first.chat_id }),
      rejectsWith("resource_exhausted", { limit: 2, scope: "chat" }),
    );
    await jobs.submitImage(user, { prompt: "three in another chat" });
    await assert.rejects(
      jobs.submitImage(user, { prompt: "four" }),
      rejectsWith("resource_exhausted", { limit: 3, scope: "user" }),
    );
  });
});
