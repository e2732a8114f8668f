import assert from "node:assert/strict";
import { inspectImage } from "../media/image-inspection.ts";
import { decodeRgba, jpegWithExif, maskPng, patternedPng, solidPng } from "../test-support/test-images.ts";
import { paths } from "../store/paths.ts";
import { deliveryBudget, longestSilenceMs } from "./delivery-budget.ts";
import type { JobRecord, MessageRecord } from "../store/records.ts";
import { startApiServer, type ApiServer } from "../test-support/api-server.ts";
import { authEmulator, type TestUser } from "../test-support/auth-emulator.ts";
import { until } from "../test-support/until.ts";

/**
 * Images and videos through the real `api` handler: submissions, the job lifecycle run by the task-queue
 * workers (in this process here; through the Cloud Tasks emulator in the end-to-end tier), media served by
 * URL, and every refusal leaving nothing behind. Providers are the labelled simulations, which make real PNG
 * and MP4 files (the live adapters are tested against wire-format servers elsewhere).
 */
describe("image and video jobs", function () {
  this.timeout(30_000);
  let server: ApiServer;
  let user: TestUser;
  let stranger: TestUser;

  const png = (width: number, height: number) => solidPng(width, height);

  before(async () => {
    server = await startApiServer({
      SIMULATED_JOB_DELAY_MS: "20",
      VEO_POLL_INTERVAL_SECONDS: "1",
      MAX_IMAGE_SIZE_BYTES: "60000",
      MAX_IMAGE_DIMENSION: "256",
      RATE_LIMIT_FREE: "0",
      // Budgets have their own suite (account/usage-api.test.ts); these jobs would outspend a free month.
      BUDGET_FREE_USD: "0",
      RATE_LIMIT_BURST: "1000",
      RATE_LIMIT_RPM: "6000",
    });
    const emulator = await authEmulator();
    [user, stranger] = [await emulator.createUser(), await emulator.createUser()];
  });
  after(async () => {
    await server.close();
  });

  const call = async (method: string, path: string, body?: unknown, who = user, extra: Record<string, string> = {}) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${who.idToken}`, "Content-Type": "application/json", ...extra },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as Record<string, unknown>,
    };
  };
  const untilJob = (jobId: string, accept: (job: Record<string, unknown>) => boolean, who = user) =>
    until(async () => (await call("GET", `/jobs/${jobId}`, undefined, who)).body, accept, {
      timeoutMs: 15_000,
      what: `job ${jobId}`,
    });
  const fetchBytes = async (url: string) => {
    const response = await fetch(url);
    return {
      status: response.status,
      type: response.headers.get("content-type"),
      bytes: Buffer.from(await response.arrayBuffer()),
    };
  };

  describe("image generation", () => {
    it("queues a job, runs it, and shows the image on the chat's assistant message", async () => {
      const submitted = await call("POST", "/image/generate", { prompt: "a red fox in snow", aspect_ratio: "16:9" });
      assert.equal(submitted.status, 200);
      assert.deepEqual(Object.keys(submitted.body).sort(), [
        "chat_id",
        "job_id",
        "message_id",
        "model",
        "ok",
        "request_id",
        "status",
      ]);
      assert.equal(submitted.body.status, "queued");
      assert.match(String(submitted.body.job_id), /^job-/);
      const job = await untilJob(String(submitted.body.job_id), (body) => body.status === "done");
      assert.equal(job.kind, "image");
      assert.equal(job.progress, 1);
      const { body } = await call("GET", `/history/chats/${String(submitted.body.chat_id)}`);
      const messages = body.messages as Record<string, unknown>[];
      assert.deepEqual(
        messages.map((message) => [message.role, message.type, message.status]),
        [
          ["user", "text", "done"],
          ["assistant", "image", "done"],
        ],
      );
      const images = messages[1]?.images as { url: string; mime_type: string; width: number; height: number }[];
      assert.equal(images.length, 1);
      assert.deepEqual([images[0]?.mime_type, images[0]?.width, images[0]?.height], ["image/png", 640, 360]);
      const served = await fetchBytes(images[0]?.url ?? "");
      assert.equal(served.status, 200);
      assert.equal(served.type, "image/png");
      assert.deepEqual(inspectImage(served.bytes), { mimeType: "image/png", width: 640, height: 360 });
      assert.equal(messages[1]?.provider, "simulated");

      // A WebP thumbnail, longest side THUMBNAIL_MAX_PX (384), served like the picture.
      const thumbnail = await fetchBytes((images[0] as { thumbnail_url?: string }).thumbnail_url ?? "");
      assert.equal(thumbnail.status, 200);
      assert.equal(thumbnail.type, "image/webp");
      assert.deepEqual(inspectImage(thumbnail.bytes), { mimeType: "image/webp", width: 384, height: 216 });
      assert.ok(thumbnail.bytes.length < served.bytes.length);
    });

    it("makes count images, each different", async () => {
      const submitted = await call("POST", "/image/generate", { prompt: "three moons", count: 3 });
      const job = await untilJob(String(submitted.body.job_id), (body) => body.status === "done");
      const images = job.images as { url: string }[];
      assert.equal(images.length, 3);
      const bytes = await Promise.all(
        images.map(async (image) => (await fetchBytes(image.url)).bytes.toString("base64")),
      );
      assert.equal(new Set(bytes).size, 3);
    });

    it("replays a request_id without a second job, and refuses it with another prompt", async () => {
      const first = await call("POST", "/image/generate", { prompt: "once", request_id: "image-idem-1" });
      const again = await call("POST", "/image/generate", { prompt: "once", request_id: "image-idem-1" });
      assert.equal(again.body.job_id, first.body.job_id);
      const conflict = await call("POST", "/image/generate", { prompt: "twice", request_id: "image-idem-1" });
      assert.equal(conflict.status, 409);
      const chatAsVideo = await call("POST", "/video/generate", { prompt: "once", request_id: "image-idem-1" });
      assert.equal(chatAsVideo.status, 409, "another kind with the same id");
    });

    it("takes the Idempotency-Key header as the request_id: a retried submission is the same job", async () => {
      const key = { "Idempotency-Key": "image-idem-key-1" };
      const first = await call("POST", "/image/generate", { prompt: "keyed fox" }, user, key);
      const again = await call("POST", "/image/generate", { prompt: "keyed fox" }, user, key);
      assert.deepEqual([first.status, again.status], [200, 200]);
      assert.equal(first.body.request_id, "image-idem-key-1");
      assert.equal(again.body.job_id, first.body.job_id);
      const disagreeing = await call("POST", "/video/generate", { prompt: "waves", request_id: "other" }, user, key);
      assert.equal(disagreeing.status, 409);
    });

    it("stores a job's inputs again when its request is replayed after a crash left it queued without them", async () => {
      const body = {
        prompt: "restore my inputs",
        request_id: "image-edit-crashed-1",
        image: { data: (await png(16, 16)).toString("base64"), mime_type: "image/png" },
      };
      const first = await call("POST", "/image/edit", body);
      const jobId = String(first.body.job_id);
      await untilJob(jobId, (job) => job.status === "done");
      // What a crash right after the submission's transaction leaves: the job queued, its input copy never stored.
      const { database, blobs, ledger } = server.services;
      const stored = await database.get<JobRecord>(paths.job(user.uid, jobId));
      assert.ok(stored);
      await database.set(paths.job(user.uid, jobId), { ...stored.data, status: "queued" });
      const inputPath = String(stored.data.input.image_path);
      await blobs.delete(inputPath);

      const replayed = await call("POST", "/image/edit", body);
      assert.equal(replayed.status, 200);
      assert.equal(replayed.body.job_id, jobId);
      assert.equal((await blobs.stat(inputPath))?.contentType, "image/png", "the input copy is back for the worker");
      await ledger.fail(user.uid, jobId, { code: "aborted", message: "test over" });
    });

    it("ends a blocked prompt as an error on the job, message and request", async () => {
      const submitted = await call("POST", "/image/generate", {
        prompt: "simulate:blocked please",
        request_id: "image-blocked-1",
      });
      const job = await untilJob(String(submitted.body.job_id), (body) => body.status === "error");
      assert.equal(job.error_code, "blocked");
      const message = await server.services.database.get<MessageRecord>(
        paths.message(user.uid, String(submitted.body.message_id)),
      );
      assert.equal(message?.data.status, "error");
      assert.equal(
        (await server.services.database.get(paths.request(user.uid, "image-blocked-1")))?.data.status,
        "error",
      );
    });
  });

  describe("image editing", () => {
    it("keeps every pixel outside the mask and its feather band, whatever the model repainted", async () => {
      const original = await patternedPng(64, 48);
      const region = { left: 16, top: 12, width: 16, height: 12 };
      const submitted = await call("POST", "/image/edit", {
        prompt: "add a yellow sun",
        image: { data: original.toString("base64"), mime_type: "image/png" },
        mask: { data: (await maskPng(64, 48, region)).toString("base64"), mime_type: "image/png" },
      });
      assert.equal(submitted.status, 200, JSON.stringify(submitted.body));
      const job = await untilJob(String(submitted.body.job_id), (body) => body.status === "done");
      assert.equal(job.mask_applied, true);
      const served = await fetchBytes((job.images as { url: string }[])[0]?.url ?? "");
      assert.equal(served.type, "image/png");
      const edited = await decodeRgba(served.bytes);
      const before = await decodeRgba(original);
      assert.deepEqual([edited.width, edited.height], [64, 48]);
      const at = (image: typeof edited, x: number, y: number) => [
        ...image.data.subarray((y * image.width + x) * 4, (y * image.width + x) * 4 + 4),
      ];
      // The simulated model repaints the whole picture, as a live one may; the pipeline puts the outside back.
      const feather = 3;
      let changedInside = 0;
      for (let y = 0; y < 48; y++) {
        for (let x = 0; x < 64; x++) {
          const away = Math.max(
            region.left - x,
            x - (region.left + region.width - 1),
            region.top - y,
            y - (region.top + region.height - 1),
            0,
          );
          if (away > feather) assert.deepEqual(at(edited, x, y), at(before, x, y), `(${String(x)}, ${String(y)})`);
          else if (away === 0 && at(edited, x, y).join() !== at(before, x, y).join()) changedInside++;
        }
      }
      assert.ok(changedInside > region.width * region.height * 0.5, "inside the mask: redrawn");
      const { messages } = (await call("GET", `/history/chats/${String(submitted.body.chat_id)}`)).body as {
        messages: { mask_applied?: boolean }[];
      };
      assert.equal(messages[1]?.mask_applied, true);
      const stored = await server.services.database.get<JobRecord>(paths.job(user.uid, String(submitted.body.job_id)));
      assert.match(String(stored?.data.input.image_path), new RegExp(`^users/${user.uid}/inputs/job-`));
    });

    it("strips EXIF from an input JPEG and stores it upright, before any model or user sees it", async () => {
      const photo = await jpegWithExif(40, 20);
      const upload = await call("POST", "/uploads", { data: photo.toString("base64"), mime_type: "image/jpeg" });
      assert.equal(upload.status, 200, JSON.stringify(upload.body));
      assert.deepEqual([upload.body.width, upload.body.height], [20, 40]);
      const stored = await server.services.blobs.get(String(upload.body.path));
      assert.ok(stored !== null);
      assert.ok(!stored.bytes.includes("AtelierTestCam") && !stored.bytes.includes("Serial 12345"));
      assert.deepEqual(inspectImage(stored.bytes), { mimeType: "image/jpeg", width: 20, height: 40 });
    });

    it("refuses a truncated image or one with bytes of another type behind a valid header, writing nothing", async () => {
      const whole = await patternedPng(64, 64);
      for (const bytes of [
        whole.subarray(0, whole.length - 100),
        Buffer.concat([whole.subarray(0, 33), Buffer.alloc(400, 0x41)]),
      ]) {
        const refused = await call("POST", "/image/edit", {
          prompt: "x",
          image: { data: bytes.toString("base64"), mime_type: "image/png" },
        });
        assert.equal(refused.status, 400, JSON.stringify(refused.body));
        assert.equal((refused.body.error as { code: string }).code, "invalid_argument");
      }
    });

    it("edits an image uploaded first through POST /uploads", async () => {
      const upload = await call("POST", "/uploads", {
        data: (await png(32, 32)).toString("base64"),
        mime_type: "image/png",
      });
      assert.equal(upload.status, 200, JSON.stringify(upload.body));
      assert.match(String(upload.body.path), new RegExp(`^users/${user.uid}/uploads/upload-.*\\.png$`));
      assert.deepEqual([upload.body.width, upload.body.height, upload.body.mime_type], [32, 32, "image/png"]);
      const submitted = await call("POST", "/image/edit", {
        prompt: "make it green",
        image: { path: upload.body.path },
      });
      const job = await untilJob(String(submitted.body.job_id), (body) => body.status === "done");
      assert.equal((job.images as { width: number }[])[0]?.width, 32);

      // The job keeps its own copy: deleting the upload (or its retention running out) cannot break the job.
      const stored = await server.services.database.get<JobRecord>(paths.job(user.uid, String(submitted.body.job_id)));
      const inputPath = String(stored?.data.input.image_path);
      assert.equal(inputPath, `users/${user.uid}/inputs/${String(submitted.body.job_id)}/image.png`);
      assert.deepEqual(
        (await server.services.blobs.get(inputPath))?.bytes,
        (await server.services.blobs.get(String(upload.body.path)))?.bytes,
      );
    });
  });

  describe("video generation", () => {
    it("runs a long operation to a playable MP4, reporting progress, at /video/status", async () => {
      const submitted = await call("POST", "/video/generate", { prompt: "waves at sunset", duration_seconds: 4 });
      assert.equal(submitted.status, 200);
      const jobId = String(submitted.body.job_id);
      assert.match(jobId, /^videojob-/);
      const running = await untilJob(jobId, (body) => body.status === "running" || body.status === "done");
      assert.ok(typeof running.progress === "number");
      const { body: done } = await (async () => {
        await untilJob(jobId, (body) => body.status === "done");
        return call("GET", `/video/status/${jobId}`);
      })();
      assert.deepEqual(
        Object.keys(done)
          .filter((key) =>
            [
              "ok",
              "job_id",
              "status",
              "progress",
              "video_url",
              "chat_id",
              "message_id",
              "created_at",
              "updated_at",
            ].includes(key),
          )
          .sort(),
        ["chat_id", "created_at", "job_id", "message_id", "ok", "progress", "status", "updated_at", "video_url"],
      );
      const video = await fetchBytes(String(done.video_url));
      assert.equal(video.status, 200);
      assert.equal(video.type, "video/mp4");
      assert.equal(video.bytes.subarray(4, 8).toString("latin1"), "ftyp");
      const ranged = await fetch(String(done.video_url), { headers: { Range: "bytes=0-7" } });
      assert.equal(ranged.status, 206, "seekable");
      const { body: history } = await call("GET", `/history/chats/${String(done.chat_id)}`);
      const answer = (history.messages as Record<string, unknown>[])[1];
      assert.equal(answer?.type, "video");
      assert.equal(answer.status, "done");
      assert.equal(typeof answer.video_url, "string");

      // Probed by ffprobe, with a poster frame from ffmpeg, on the status and on the message alike: the 4 s asked.
      assert.deepEqual([done.duration_seconds, done.width, done.height], [4, 320, 180]);
      assert.deepEqual([answer.duration_seconds, answer.width, answer.height], [4, 320, 180]);
      const poster = await fetchBytes(String(done.poster_url));
      assert.equal(poster.type, "image/webp");
      assert.deepEqual(inspectImage(poster.bytes), { mimeType: "image/webp", width: done.width, height: done.height });
      assert.equal(typeof answer.poster_url, "string");
      assert.equal(answer.poster_path, undefined, "storage paths stay internal");
    });

    it("accepts a first frame image", async () => {
      const submitted = await call("POST", "/video/generate", {
        prompt: "animate this",
        image: { data: (await png(32, 32)).toString("base64"), mime_type: "image/png" },
      });
      assert.equal(submitted.status, 200);
      await untilJob(String(submitted.body.job_id), (body) => body.status === "done");
    });
  });

  describe("models and fallback (simulated providers)", () => {
    it("makes a video offline with each video vendor: Omni by default, Veo when asked", async () => {
      for (const [model, expected] of [
        [undefined, "gemini-omni-1.1-flash"],
        ["veo-3.1-generate-preview", "veo-3.1-generate-preview"],
      ] as const) {
        const submitted = await call("POST", "/video/generate", {
          prompt: "a kite over dunes",
          model,
          duration_seconds: 4,
        });
        assert.equal(submitted.status, 200, JSON.stringify(submitted.body));
        assert.equal(submitted.body.model, expected);
        const done = await untilJob(String(submitted.body.job_id), (job) => job.status === "done");
        assert.equal(done.model, expected);
        const video = await fetchBytes(String(done.video_url));
        assert.equal(video.type, "video/mp4");
        const job = await server.services.ledger.get(user.uid, String(submitted.body.job_id));
        assert.equal(
          job?.interaction_id !== undefined,
          expected.startsWith("gemini-omni"),
          "Omni keeps its interaction",
        );
      }
    });

    it("continues a finished Omni video in its chat, and refuses what cannot be continued", async () => {
      const first = await call("POST", "/video/generate", { prompt: "a city street", duration_seconds: 4 });
      await untilJob(String(first.body.job_id), (job) => job.status === "done");
      const next = await call("POST", "/video/generate", {
        prompt: "now at night",
        duration_seconds: 4,
        previous_job_id: first.body.job_id,
      });
      assert.equal(next.status, 200, JSON.stringify(next.body));
      assert.equal(next.body.chat_id, first.body.chat_id, "the edit goes on in the same chat");
      const job = await server.services.ledger.get(user.uid, String(next.body.job_id));
      const previous = await server.services.ledger.get(user.uid, String(first.body.job_id));
      assert.equal(job?.input.previous_interaction_id, previous?.interaction_id);
      await untilJob(String(next.body.job_id), (done) => done.status === "done");

      const withVeo = await call("POST", "/video/generate", {
        prompt: "now at night",
        model: "veo-3.1-generate-preview",
        previous_job_id: first.body.job_id,
      });
      assert.equal(withVeo.status, 400);
      assert.match(JSON.stringify(withVeo.body), /cannot continue an earlier video/);
      const veoVideo = await call("POST", "/video/generate", { prompt: "a road", model: "veo-3.1-generate-preview" });
      await untilJob(String(veoVideo.body.job_id), (done) => done.status === "done");
      const fromVeo = await call("POST", "/video/generate", { prompt: "again", previous_job_id: veoVideo.body.job_id });
      assert.equal(fromVeo.status, 400, "a Veo video keeps no conversation to continue");
      const strangers = await call(
        "POST",
        "/video/generate",
        { prompt: "x", previous_job_id: first.body.job_id },
        stranger,
      );
      assert.equal(strangers.status, 404);
    });

    it("draws with another image model when asked for one the caller may pick", async () => {
      const submitted = await call("POST", "/image/generate", { prompt: "a heron", model: "gemini-3-pro-image" });
      assert.equal(submitted.status, 200);
      const done = await untilJob(String(submitted.body.job_id), (job) => job.status === "done");
      assert.equal(done.model, "gemini-3-pro-image");
    });

    it("simulate:primary-down: the next model of the chain makes the image and the video", async () => {
      const image = await call("POST", "/image/generate", { prompt: "a heron simulate:primary-down" });
      const video = await call("POST", "/video/generate", { prompt: "a heron simulate:primary-down" });
      for (const [submitted, fallback, asked] of [
        [image, "gemini-3.1-flash-lite-image", "gemini-nano-banana-2.1"],
        [video, "veo-3.1-fast-generate-preview", "gemini-omni-1.1-flash"],
      ] as const) {
        const done = await untilJob(String(submitted.body.job_id), (job) => job.status === "done");
        assert.equal(done.model, fallback);
        assert.equal(done.fallback_from, asked);
        const history = await call("GET", `/history/chats/${String(submitted.body.chat_id)}`);
        const answer = (history.body.messages as Record<string, unknown>[]).find((item) => item.role === "assistant");
        assert.equal(answer?.model, fallback);
        assert.equal(answer.fallback_from, asked);
      }
    });
  });

  describe("lost media", () => {
    it("never fails a history page or a job view: a lost object costs its URL, flagged media_missing", async () => {
      const submitted = await call("POST", "/image/generate", { prompt: "a kite", count: 2 });
      const jobId = String(submitted.body.job_id);
      await untilJob(jobId, (job) => job.status === "done");
      const job = await server.services.ledger.get(user.uid, jobId);
      const [first, second] = job?.images ?? [];
      assert.ok(first !== undefined && second !== undefined);
      // One object deleted behind our back (a lifecycle rule, a console delete), on a record whose URL was not
      // kept (as records from before URLs were stored): the read must look it up, and finds it gone.
      await server.services.blobs.delete(second.path);
      const message = paths.message(user.uid, String(submitted.body.message_id));
      await server.services.database.update(message, { images: [first, { ...second, url: "" }] });
      const history = await call("GET", `/history/chats/${String(submitted.body.chat_id)}`);
      assert.equal(history.status, 200);
      const shown = (history.body.messages as Record<string, unknown>[]).find((item) => item.role === "assistant");
      assert.equal(shown?.media_missing, true);
      const images = shown.images as { url?: string }[];
      assert.equal(typeof images[0]?.url, "string");
      assert.equal(images[1]?.url, undefined);
      assert.ok(!JSON.stringify(shown).includes(second.path), "storage paths stay internal");

      await server.services.database.update(paths.job(user.uid, jobId), { images: [first, { ...second, url: "" }] });
      const view = await call("GET", `/jobs/${jobId}`);
      assert.equal(view.status, 200);
      assert.equal(view.body.media_missing, true);
    });
  });

  describe("someone else's jobs", () => {
    it("are not found", async () => {
      const submitted = await call("POST", "/image/generate", { prompt: "mine" });
      assert.equal((await call("GET", `/jobs/${String(submitted.body.job_id)}`, undefined, stranger)).status, 404);
      assert.equal(
        (await call("GET", `/video/status/${String(submitted.body.job_id)}`, undefined, stranger)).status,
        404,
      );
    });
  });

  describe("bad input creates nothing", () => {
    async function refused(path: string, body: unknown, status: number, code: string) {
      const who = stranger;
      const chatsBefore = ((await call("GET", "/history/chats?limit=100", undefined, who)).body.chats as unknown[])
        .length;
      const jobsBefore = (await server.services.database.query({ collection: paths.jobs(who.uid) })).length;
      const response = await call("POST", path, body, who);
      assert.equal(response.status, status, JSON.stringify(response.body));
      assert.equal((response.body.error as { code: string }).code, code);
      assert.equal(
        ((await call("GET", "/history/chats?limit=100", undefined, who)).body.chats as unknown[]).length,
        chatsBefore,
      );
      assert.equal((await server.services.database.query({ collection: paths.jobs(who.uid) })).length, jobsBefore);
      return response;
    }
    const inline = (bytes: Buffer, mime = "image/png") => ({ data: bytes.toString("base64"), mime_type: mime });

    it("prompts, counts, aspect ratios and durations out of range", async () => {
      await refused("/image/generate", { prompt: "" }, 400, "invalid_argument");
      await refused("/image/generate", { prompt: "x", count: 5 }, 400, "invalid_argument");
      await refused("/image/generate", { prompt: "x", aspect_ratio: "7:3" }, 400, "invalid_argument");
      await refused("/video/generate", { prompt: "x", duration_seconds: 60 }, 400, "invalid_argument");
      await refused("/video/generate", { prompt: "x", aspect_ratio: "1:1" }, 400, "invalid_argument");
      await refused("/image/edit", { prompt: "x" }, 400, "invalid_argument");
    });

    it("models that are retired, unknown, of another kind, or cannot make what is asked", async () => {
      const retired = await refused(
        "/image/generate",
        { prompt: "x", model: "gemini-2.5-flash-image" },
        400,
        "invalid_argument",
      );
      assert.match(JSON.stringify(retired.body.error), /gemini-nano-banana-2\.1/);
      await refused("/video/generate", { prompt: "x", model: "veo-3.0-generate-001" }, 400, "invalid_argument");
      await refused("/video/generate", { prompt: "x", model: "gemini-3.8-flash" }, 400, "invalid_argument");
      const ratio = await refused(
        "/image/generate",
        { prompt: "x", model: "gemini-3-pro-image", aspect_ratio: "8:1" },
        400,
        "invalid_argument",
      );
      assert.match(JSON.stringify(ratio.body.error), /"aspect_ratio":"gemini-3-pro-image makes 1:1, /);
      const duration = await refused(
        "/video/generate",
        { prompt: "x", model: "veo-3.1-generate-preview", duration_seconds: 5 },
        400,
        "invalid_argument",
      );
      assert.match(JSON.stringify(duration.body.error), /makes clips of 4, 6, 8 seconds/);
    });

    it("images that are not PNG, JPEG or WebP by their bytes, or not what they claim", async () => {
      const gif = Buffer.from("GIF89a\u0001\u0000\u0001\u0000", "latin1");
      await refused("/image/edit", { prompt: "x", image: inline(gif, "image/gif") }, 415, "unsupported_media_type");
      await refused(
        "/image/edit",
        { prompt: "x", image: inline(await png(8, 8), "image/jpeg") },
        415,
        "unsupported_media_type",
      );
      await refused(
        "/image/edit",
        { prompt: "x", image: { data: "!!!not base64!!!", mime_type: "image/png" } },
        400,
        "invalid_argument",
      );
    });

    it("images over MAX_IMAGE_SIZE_BYTES or MAX_IMAGE_DIMENSION, and masks of another size", async () => {
      await refused("/image/edit", { prompt: "x", image: inline(Buffer.alloc(70_000, 7)) }, 413, "payload_too_large");
      await refused("/image/edit", { prompt: "x", image: inline(await png(300, 10)) }, 400, "invalid_argument");
      const response = await refused(
        "/image/edit",
        { prompt: "x", image: inline(await png(32, 32)), mask: inline(await png(16, 16)) },
        400,
        "invalid_argument",
      );
      assert.ok((response.body.error as { details: { fields: Record<string, string> } }).details.fields.mask);
    });

    it("image paths outside the caller's uploads, or missing", async () => {
      await server.services.blobs.put(`users/${user.uid}/uploads/theirs.png`, await png(8, 8), "image/png");
      await refused(
        "/image/edit",
        { prompt: "x", image: { path: `users/${user.uid}/uploads/theirs.png` } },
        400,
        "invalid_argument",
      );
      await refused(
        "/image/edit",
        { prompt: "x", image: { path: `users/${stranger.uid}/images/a.png` } },
        400,
        "invalid_argument",
      );
      await refused(
        "/image/edit",
        { prompt: "x", image: { path: `users/${stranger.uid}/uploads/none.png` } },
        404,
        "not_found",
      );
    });

    it("uploads that are too large or not images", async () => {
      const response = await call(
        "POST",
        "/uploads",
        { data: Buffer.from("hello").toString("base64"), mime_type: "text/plain" },
        stranger,
      );
      assert.equal(response.status, 415);
    });
  });

  describe("limits", () => {
    it("refuse more active jobs per chat and per user than allowed, with Retry-After", async () => {
      const limited = await startApiServer({
        SIMULATED_JOB_DELAY_MS: "3000",
        RATE_LIMIT_CONVERSATION_TASKS: "1",
        RATE_LIMIT_USER_ACTIVE_JOBS: "2",
        RATE_LIMIT_FREE: "0",
      });
      try {
        const post = async (body: unknown) => {
          const response = await fetch(`${limited.url}/image/generate`, {
            method: "POST",
            headers: { Authorization: `Bearer ${user.idToken}`, "Content-Type": "application/json" },
            body: JSON.stringify(body),
          });
          return {
            status: response.status,
            retryAfter: response.headers.get("retry-after"),
            body: (await response.json()) as Record<string, unknown>,
          };
        };
        const first = await post({ prompt: "slow one" });
        assert.equal(first.status, 200);
        const sameChat = await post({ prompt: "slow two", chat_id: first.body.chat_id });
        assert.equal(sameChat.status, 429);
        assert.ok(Number(sameChat.retryAfter) > 0);
        assert.equal((sameChat.body.error as { details: { scope: string } }).details.scope, "chat");
        assert.equal((await post({ prompt: "another chat" })).status, 200);
        const third = await post({ prompt: "one too many" });
        assert.equal(third.status, 429);
        assert.equal((third.body.error as { details: { scope: string } }).details.scope, "user");
      } finally {
        await limited.close();
      }
    });
  });

  describe("a queue that cannot be reached", () => {
    it("ends the job and its message as errors and answers 503, leaving nothing pending or stored", async () => {
      // Cloud Tasks "emulator" on a port nothing listens on: every enqueue is refused.
      const previous = process.env.CLOUD_TASKS_EMULATOR_HOST;
      process.env.CLOUD_TASKS_EMULATOR_HOST = "127.0.0.1:9";
      const broken = await startApiServer({ TASK_QUEUE: "cloud-tasks", RATE_LIMIT_FREE: "0" });
      try {
        const response = await fetch(`${broken.url}/image/generate`, {
          method: "POST",
          headers: { Authorization: `Bearer ${user.idToken}`, "Content-Type": "application/json" },
          body: JSON.stringify({ prompt: "never queued", request_id: "unqueued-1" }),
        });
        assert.equal(response.status, 503);
        const jobs = await broken.services.database.query<JobRecord>({ collection: paths.jobs(user.uid) });
        assert.equal(jobs.length, 1);
        assert.equal(jobs[0]?.data.status, "error");
        assert.equal(
          jobs[0].data.abandon_at?.getTime(),
          jobs[0].data.created_at.getTime() + longestSilenceMs(deliveryBudget(broken.services.config.settings)),
          "a submitted job's task has its whole retry budget before the job counts as abandoned",
        );
        const message = await broken.services.database.get<MessageRecord>(
          paths.message(user.uid, jobs[0].data.message_id),
        );
        assert.equal(message?.data.status, "error");
        assert.equal((await broken.services.database.get(paths.request(user.uid, "unqueued-1")))?.data.status, "error");

        // An edit's inline input image was stored before the enqueue failed: it goes with the job.
        const edit = await fetch(`${broken.url}/image/edit`, {
          method: "POST",
          headers: { Authorization: `Bearer ${user.idToken}`, "Content-Type": "application/json" },
          body: JSON.stringify({
            prompt: "never queued either",
            image: { data: (await png(16, 16)).toString("base64"), mime_type: "image/png" },
          }),
        });
        assert.equal(edit.status, 503);
        const editJob = (await broken.services.database.query<JobRecord>({ collection: paths.jobs(user.uid) })).find(
          (job) => job.data.kind === "image_edit",
        );
        assert.ok(editJob !== undefined);
        assert.equal(editJob.data.status, "error");
        const inputPath = String(editJob.data.input.image_path);
        assert.match(inputPath, /\/inputs\//);
        assert.equal(await broken.services.blobs.stat(inputPath), null);
      } finally {
        if (previous === undefined) delete process.env.CLOUD_TASKS_EMULATOR_HOST;
        else process.env.CLOUD_TASKS_EMULATOR_HOST = previous;
        await broken.close();
      }
    });
  });
});
