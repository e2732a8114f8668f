import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DocumentSnapshot } from "firebase-admin/firestore";
import functionsTest from "firebase-functions-test";
import type { Services } from "../runtime/services.ts";
import { paths } from "../store/paths.ts";
import type { JobRecord, MessageRecord, RequestRecord } from "../store/records.ts";
import { TEST_PROJECT_ID } from "../test-support/auth-emulator.ts";
import { seedJob } from "../test-support/seed-job.ts";

/**
 * The exported Cloud Functions themselves (`functions/src/index.ts`), driven with firebase-functions-test: the
 * `imageWorker` task function runs a job, and the `jobStatusTrigger` Firestore trigger carries a job write onto
 * its message and request, forward only; the `uploadCounter` Storage trigger counts uploads made straight to
 * Storage. They run in embedded mode over a temporary data folder.
 */
describe("exported job functions (firebase-functions-test)", function () {
  this.timeout(30_000);
  const environment = {
    DATA_BACKEND: "embedded",
    FIREBASE_PROJECT_ID: TEST_PROJECT_ID,
    SIMULATED_JOB_DELAY_MS: "0",
    TASK_QUEUE: "in-process",
    FIREBASE_STORAGE_BUCKET: "demo-atelier-functions.appspot.com",
    UPLOAD_MAX_PER_DAY: "2",
  };
  const saved: Record<string, string | undefined> = {};
  let directory: string;
  let testEnvironment: ReturnType<typeof functionsTest>;
  let index: typeof import("../index.ts");
  let services: Services;
  const uid = "functions-user";

  before(async () => {
    directory = mkdtempSync(join(tmpdir(), "atelier-functions-"));
    for (const [name, value] of Object.entries({ ...environment, EMBEDDED_DATA_DIR: directory })) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
    testEnvironment = functionsTest({ projectId: TEST_PROJECT_ID });
    index = await import("../index.ts");
    const { processServices } = await import("../runtime/process-services.ts");
    services = await processServices();
  });
  after(async () => {
    testEnvironment.cleanup();
    await services.close();
    // Put back only what this suite changed: other suites rely on variables set since (the Auth emulator's).
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) Reflect.deleteProperty(process.env, name);
      else process.env[name] = value;
    }
    rmSync(directory, { recursive: true, force: true });
  });

  const newJob = (requestId: string) =>
    seedJob(services.database, { uid, requestId, kind: "image", prompt: "a kite", provider: "simulated" });
  const message = async (job: JobRecord) =>
    (await services.database.get<MessageRecord>(paths.message(uid, job.message_id)))?.data;

  it("imageWorker runs a queued job to a stored image on the message", async () => {
    const job = await newJob("fn-worker-1");
    await index.imageWorker.run({
      data: { uid, job_id: job.job_id, phase: "start" },
      retryCount: 0,
      executionCount: 0,
      queueName: "imageWorker",
      id: job.job_id,
    } as Parameters<typeof index.imageWorker.run>[0]);
    const done = (await services.database.get<JobRecord>(paths.job(uid, job.job_id)))?.data;
    assert.equal(done?.status, "done");
    assert.equal((await message(job))?.status, "done");
    assert.ok((await services.blobs.stat(done.images?.[0]?.path ?? "")) !== null);
  });

  it("imageWorker drops a malformed task instead of retrying it forever", async () => {
    // Resolving (not rejecting) is what tells Cloud Tasks the task is done: a rejection would be retried.
    await assert.doesNotReject(
      Promise.resolve(
        index.imageWorker.run({
          data: { nonsense: true },
          retryCount: 0,
          executionCount: 0,
          queueName: "imageWorker",
          id: "bad",
        } as Parameters<typeof index.imageWorker.run>[0]),
      ),
    );
  });

  it("jobStatusTrigger carries a finished job onto its message and request, and ignores a late older event", async () => {
    const job = await newJob("fn-trigger-1");
    const finished: JobRecord = {
      ...job,
      status: "done",
      progress: 1,
      images: [
        { path: `users/${uid}/images/${job.job_id}/0.png`, url: "https://example.test/0.png", mime_type: "image/png" },
      ],
    };
    const trigger = index.jobStatusTrigger;
    assert.ok(trigger, "defined when no FUNCTION_TARGET narrows the module to another function");
    const wrapped = testEnvironment.wrap(trigger);
    const snapshot = (data: object): DocumentSnapshot =>
      testEnvironment.firestore.makeDocumentSnapshot(data, paths.job(uid, job.job_id)) as DocumentSnapshot;
    await wrapped({
      data: testEnvironment.makeChange(snapshot(job), snapshot(finished)),
      params: { uid, jobId: job.job_id },
    });
    const answer = await message(job);
    assert.equal(answer?.status, "done");
    assert.equal(answer.images?.[0]?.path, finished.images?.[0]?.path);
    assert.equal((await services.database.get<RequestRecord>(paths.request(uid, job.request_id)))?.data.status, "done");

    await wrapped({
      data: testEnvironment.makeChange(snapshot(job), snapshot({ ...job, status: "running", progress: 0.4 })),
      params: { uid, jobId: job.job_id },
    });
    assert.deepEqual(await message(job), answer, "a late event changes nothing");
  });

  it("uploadCounter counts a client's direct uploads and deletes the one over the day's limit", async () => {
    const trigger = index.uploadCounter;
    assert.ok(trigger !== undefined);
    const wrapped = testEnvironment.wrap(trigger);
    const png = Buffer.from("89504e470d0a1a0a", "hex");
    const names = [1, 2, 3].map((n) => `users/${uid}/uploads/photo-${String(n)}.png`);
    for (const name of names) {
      await services.blobs.put(name, png, "image/png");
      await wrapped({ data: { name, size: String(png.length), bucket: "demo-atelier-functions.appspot.com" } });
    }
    const left = await Promise.all(names.map((name) => services.blobs.stat(name)));
    assert.deepEqual(
      left.map((stat) => stat !== null),
      [true, true, false],
      "the third is over UPLOAD_MAX_PER_DAY (2)",
    );
    // The backend's own uploads (POST /uploads, named upload-…) were counted when made: the trigger leaves them.
    const own = `users/${uid}/uploads/upload-abc.png`;
    await services.blobs.put(own, png, "image/png");
    await wrapped({ data: { name: own, size: String(png.length), bucket: "demo-atelier-functions.appspot.com" } });
    assert.notEqual(await services.blobs.stat(own), null);
  });
});
