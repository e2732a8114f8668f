import { SpanKind } from "@opentelemetry/api";
import { attributes, inSpan, noTelemetry, type Telemetry } from "../telemetry/telemetry.ts";
import type { Pricing } from "../models/pricing.ts";
import type { UsageRecord } from "../store/usage-ledger.ts";
import { jobAsk, jobReceipt } from "./job-cost.ts";
import { randomUUID } from "node:crypto";
import type { BlobStore } from "../blobs/blob-store.ts";
import { AppError } from "../errors/app-error.ts";
import { toAppError } from "../errors/error-mapping.ts";
import { describeError, type Logger } from "../logging/logger.ts";
import type { CleanImage } from "../media/clean-image.ts";
import type { VideoFacts } from "../media/video-facts.ts";
import type { ImageData, ImageProvider } from "../providers/image-provider.ts";
import { isProviderError } from "../providers/provider-error.ts";
import type { VideoProvider } from "../providers/video-provider.ts";
import { firstThatAnswers } from "../models/fallback.ts";
import type { ModelChoices } from "../models/model-choices.ts";
import type { ModelEntry, ModelEntryOf, ModelKind } from "../models/model-entry.ts";
import type { JobTask, QueueName, TaskDelivery, TaskQueue } from "../queue/task-queue.ts";
import { taskId } from "../queue/task-queue.ts";
import type { JobRecord, StoredImage } from "../store/records.ts";
import type { JobLedger } from "./job-ledger.ts";
import { deleteJobMedia, mediaPaths } from "../store/media-paths.ts";

/**
 * The task-queue workers' logic. Each delivery claims the job (a lease, so a duplicate delivery of a running
 * job does no second generation; a finished job is left as it is), does one step, and gives the lease back.
 *
 * - Transient failures (provider 429/5xx/timeouts, storage hiccups) are thrown so Cloud Tasks retries, unless
 *   this is the last attempt, which ends the job `error`.
 * - Permanent failures (a safety block, a refused request) end the job `error` with a user-safe message at once.
 * - Results go to deterministic paths (`users/{uid}/images/{job}/{n}.png`, `users/{uid}/videos/{job}.mp4`), so a
 *   worker taking over an expired lease overwrites rather than adds: one job, one set of files.
 * - The provider call walks the job's model chain (its model, then the fallbacks fixed at submission): a failure
 *   another model may not share moves to the next; the job records the model that answered and `fallback_from`.
 * - A video (Veo's operation, Omni's background interaction) is started once; each later step is a poll task
 *   scheduled `video.pollIntervalSeconds` ahead (no worker sleeps through a generation), on the provider of the
 *   model that started it. A poll delivered early (the Cloud Tasks emulator ignores schedule times) waits out the
 *   rest of its interval first.
 */

/** Thrown to make Cloud Tasks deliver the task again later. */
export class RetryLaterError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RetryLaterError";
  }
}

/** What the workers read of the configuration. */
export interface JobWorkerOptions {
  readonly image: {
    /** How far beyond a masked edit's mask the edit fades out (`EDIT_MASK_FEATHER_PX`). */
    readonly maskFeatherPx: number;
    /** The longest side of each image's WebP thumbnail (`THUMBNAIL_MAX_PX`). */
    readonly thumbnailMaxPx: number;
  };
  readonly video: {
    /** How far apart polls of a running video are scheduled (Cloud Tasks schedules in whole seconds). */
    readonly pollIntervalSeconds: number;
    /** A video still unfinished this long after its job started ends `error`. */
    readonly maxWaitMs: number;
  };
}

interface JobWorkerDependencies {
  readonly ledger: JobLedger;
  readonly blobs: BlobStore;
  readonly queue: TaskQueue;
  /** Gemini's image models (undefined when not configured). */
  readonly images: ImageProvider | undefined;
  /** The video adapters by vendor (Veo, Omni); a vendor that is not configured is absent. */
  readonly videos: Partial<Readonly<Record<"veo" | "omni", VideoProvider>>>;
  /** The catalogue, to find each job model's vendor and capabilities. */
  readonly models: ModelChoices;
  /** What finished jobs cost (their receipts). */
  readonly pricing: Pricing;
  /** A span per task delivery, joining the trace the task carries. */
  readonly telemetry?: Telemetry;
  readonly options: JobWorkerOptions;
  readonly logger: Logger;
  readonly now: () => number;
}

const EXTENSIONS: Readonly<Record<string, string>> = { "image/png": "png", "image/jpeg": "jpg", "image/webp": "webp" };
/** The largest side a model's picture may have: well beyond any model's output, short of a decompression bomb. */
const MAX_RESULT_SIDE = 8192;

export class JobWorker {
  readonly #dependencies: JobWorkerDependencies;

  readonly #telemetry: Telemetry;

  constructor(dependencies: JobWorkerDependencies) {
    this.#dependencies = dependencies;
    this.#telemetry = dependencies.telemetry ?? noTelemetry();
  }

  /** Handles one task delivery; throws {@link RetryLaterError} when it should be delivered again. */
  /** One delivery of a task, as a span in the trace of the request that queued the job. */
  handle(queue: QueueName, task: JobTask, delivery: TaskDelivery): Promise<void> {
    const telemetry = this.#telemetry;
    return inSpan(
      telemetry.tracer,
      `job ${queue}`,
      {
        kind: SpanKind.CONSUMER,
        parent: telemetry.extract(task.trace),
        attributes: attributes({
          "atelier.job_id": task.job_id,
          "atelier.task.phase": task.phase,
          "atelier.task.poll": task.poll,
          "atelier.task.retry_count": delivery.retryCount,
        }),
      },
      () => this.#handle(queue, task, delivery),
    );
  }

  async #handle(queue: QueueName, task: JobTask, delivery: TaskDelivery): Promise<void> {
    const { ledger, logger } = this.#dependencies;
    const owner = `${String(process.pid)}-${randomUUID()}`;
    const lastAttempt = delivery.retryCount + 1 >= delivery.maxAttempts;
    const claim = await ledger.claim(task.uid, task.job_id, owner, delivery);
    const log = { job_id: task.job_id, queue, phase: task.phase, retry_count: delivery.retryCount };
    if (claim.outcome === "missing" || claim.outcome === "finished") {
      logger.info("job task skipped", { ...log, reason: claim.outcome });
      return;
    }
    if (claim.outcome === "busy") {
      logger.info("job task deferred: another delivery holds the lease", log);
      if (!lastAttempt) throw new RetryLaterError("Another delivery is working on this job.");
      await this.#scheduleTakeover(queue, task, claim.job);
      return;
    }
    const job = claim.job;
    try {
      if (job.kind === "video") await this.#videoStep(task, job, owner);
      else await this.#imageStep(task.uid, job, owner);
    } catch (error) {
      if (isProviderError(error)) {
        this.#telemetry.metrics.providerErrors.add(1, {
          "atelier.provider": job.kind === "video" ? (job.video_provider ?? "veo") : "gcp.gemini",
          "error.type": error.failure,
        });
      }
      const transient = isProviderError(error) ? error.retryable : !(error instanceof AppError);
      if (transient && !lastAttempt) {
        logger.warn("job step failed; will retry", { ...log, ...describeError(error, false) });
        // This task is delivered again, with one attempt fewer left.
        const retry = {
          at: new Date(this.#dependencies.now()),
          attemptsLeft: delivery.maxAttempts - delivery.retryCount - 1,
        };
        await ledger.release(task.uid, job.job_id, owner, retry, { progress: job.progress ?? 0 });
        throw new RetryLaterError("Transient failure; retry.", { cause: error });
      }
      const appError = isProviderError(error) ? error.toAppError() : toAppError(error);
      const level = appError.code === "internal" ? "error" : "warn";
      logger[level]("job failed", {
        ...log,
        code: appError.code,
        ...describeError(error, appError.code === "internal"),
      });
      const failed = await ledger.fail(
        task.uid,
        job.job_id,
        { code: appError.code, message: appError.message },
        { owner },
      );
      // A failed job keeps nothing: its input copies go now (the media sweep looks only at finished media).
      if (failed !== undefined) await this.#dependencies.blobs.deletePrefix(mediaPaths.jobInputs(task.uid, job.job_id));
    }
  }

  async #input(job: JobRecord, name: string): Promise<ImageData | undefined> {
    const path = job.input[`${name}_path`];
    if (typeof path !== "string") return undefined;
    const blob = await this.#dependencies.blobs.get(path);
    if (blob === null) throw new AppError("invalid_argument", "The input image is no longer available.");
    return { mimeType: blob.contentType, data: blob.bytes };
  }

  /** A finished job's receipt, at the prices of the day it was submitted. */
  #receipt(job: JobRecord, entry: ModelEntry | undefined, made: Parameters<typeof jobReceipt>[3]): UsageRecord {
    const ask = jobAsk(job.kind, job.prompt, job.input, typeof job.input.image_path === "string" ? 1 : 0);
    if (entry === undefined) return { input_tokens: 0, output_tokens: 0, cost_micros: 0 };
    return jobReceipt(this.#dependencies.pricing, entry, ask, made, job.created_at);
  }

  /** The job's model and the fallbacks fixed when it was submitted, as catalogue entries. */
  #chain<Kind extends ModelKind>(job: JobRecord, kind: Kind): ModelEntryOf<Kind>[] {
    const { models } = this.#dependencies;
    const fallbacks = Array.isArray(job.input.fallback_models) ? job.input.fallback_models : [];
    const ids = [job.model, ...fallbacks.filter((id): id is string => typeof id === "string")];
    const chain = ids
      .map((id) => models.entry(id))
      .filter((entry): entry is ModelEntry => entry?.kind === kind) as ModelEntryOf<Kind>[];
    if (chain.length === 0) throw new AppError("unavailable", "This model is no longer offered. Please try again.");
    return chain;
  }

  async #imageStep(uid: string, job: JobRecord, owner: string): Promise<void> {
    const { images, blobs, ledger, logger } = this.#dependencies;
    if (images === undefined) throw new AppError("unavailable", "The image model is not configured on this server.");
    const image = await this.#input(job, "image");
    const mask = await this.#input(job, "mask");
    const aspectRatio = job.input.aspect_ratio;
    const answer = await firstThatAnswers(this.#chain(job, "image"), logger, (entry, fallbackFrom) =>
      images.generate({
        model: entry.id,
        prompt: job.prompt,
        count: typeof job.input.count === "number" ? job.input.count : 1,
        ...(typeof aspectRatio === "string" ? { aspectRatio } : {}),
        ...(image === undefined ? {} : { edit: { image, ...(mask === undefined ? {} : { mask }) } }),
        ...(fallbackFrom === undefined ? {} : { fallbackFrom }),
      }),
    );
    const stored: StoredImage[] = [];
    for (const [index, result] of answer.result.entries()) {
      const picture = await this.#finishedPicture(result, image, mask);
      const path = `${mediaPaths.jobImages(uid, job.job_id)}${String(index)}.${EXTENSIONS[picture.mimeType] ?? "png"}`;
      const url = await blobs.put(path, picture.data, picture.mimeType);
      // Beside the picture, so every path that deletes a job's media takes its thumbnail too.
      const { thumbnail } = await import("../media/thumbnail.ts");
      const small = await thumbnail(picture.data, this.#dependencies.options.image.thumbnailMaxPx);
      const thumbnailPath = `${mediaPaths.jobImages(uid, job.job_id)}${String(index)}.thumbnail.webp`;
      const thumbnailUrl = await blobs.put(thumbnailPath, small.data, "image/webp");
      stored.push({
        path,
        url,
        mime_type: picture.mimeType,
        width: picture.width,
        height: picture.height,
        thumbnail_path: thumbnailPath,
        thumbnail_url: thumbnailUrl,
      });
    }
    const completed = await ledger.complete(uid, job.job_id, owner, {
      images: stored,
      usage: this.#receipt(job, answer.entry, { images: stored.length }),
      ...(mask === undefined ? {} : { mask_applied: true }),
      model: answer.entry.id,
      ...(answer.fallbackFrom === undefined ? {} : { fallback_from: answer.fallbackFrom }),
    });
    // Cancelled (its chat deleted) or taken over meanwhile: what this delivery stored belongs to no record.
    if (completed === undefined) await this.#discardMedia(uid, job);
  }

  /**
   * What is stored of a model's picture. A masked edit is put back through the mask (`applyMask`): whatever the
   * model repainted, pixels outside the mask and its feather band stay the input's, and the result is a PNG.
   * Anything else is decoded and encoded again like an upload (upright, no metadata); a picture that does not
   * decode ends the job `unavailable` rather than be served broken.
   */
  async #finishedPicture(
    result: ImageData,
    image: ImageData | undefined,
    mask: ImageData | undefined,
  ): Promise<{ mimeType: CleanImage["mimeType"]; data: Buffer; width: number; height: number }> {
    try {
      if (image !== undefined && mask !== undefined) {
        const { applyMask } = await import("../media/masked-edit.ts");
        const edited = await applyMask(
          image.data,
          result.data,
          mask.data,
          this.#dependencies.options.image.maskFeatherPx,
        );
        return { mimeType: "image/png", ...edited };
      }
      const { cleanImage } = await import("../media/clean-image.ts");
      return await cleanImage(result.data, { maxDimension: MAX_RESULT_SIDE });
    } catch (error) {
      throw new AppError("unavailable", "The image model returned a picture that could not be read.", {
        cause: error,
        httpStatus: 502,
      });
    }
  }

  /**
   * What ffprobe and ffmpeg make of a finished video: a provider result that is not a readable video ends the job
   * `unavailable` (it is never stored, so no one gets a broken player).
   */
  async #videoFacts(video: Buffer): Promise<VideoFacts> {
    const { videoFacts } = await import("../media/video-facts.ts");
    try {
      return await videoFacts(video);
    } catch (error) {
      throw new AppError("unavailable", "The video model returned a video that could not be read.", {
        cause: error,
        httpStatus: 502,
      });
    }
  }

  /**
   * Deletes what a delivery stored for a job it could not complete, when the job is gone or was cancelled. A job
   * another delivery took over (still running, or done) keeps its media: they are at the same paths.
   */
  async #discardMedia(uid: string, job: JobRecord): Promise<void> {
    const current = await this.#dependencies.ledger.get(uid, job.job_id);
    if (current !== undefined && current.status !== "error") return;
    await deleteJobMedia(this.#dependencies.blobs, uid, job.job_id);
    this.#dependencies.logger.info("job media discarded: the job was cancelled or is gone", { job_id: job.job_id });
  }

  #videoProvider(vendor: ModelEntry["provider"]): VideoProvider {
    const provider = vendor === "omni" || vendor === "veo" ? this.#dependencies.videos[vendor] : undefined;
    if (provider === undefined) throw new AppError("unavailable", "The video model is not configured on this server.");
    return provider;
  }

  async #videoStep(task: JobTask, job: JobRecord, owner: string): Promise<void> {
    const { ledger, options, now, logger } = this.#dependencies;
    const intervalMs = options.video.pollIntervalSeconds * 1000;

    if (job.operation_name === undefined) {
      const image = await this.#input(job, "image");
      const aspectRatio = job.input.aspect_ratio;
      const durationSeconds = job.input.duration_seconds;
      const continueFrom = job.input.previous_interaction_id;
      const started = await firstThatAnswers(this.#chain(job, "video"), logger, (entry, fallbackFrom) =>
        this.#videoProvider(entry.provider).start({
          model: entry.id,
          prompt: job.prompt,
          ...(typeof aspectRatio === "string" ? { aspectRatio } : {}),
          ...(typeof durationSeconds === "number" ? { durationSeconds } : {}),
          ...(image === undefined ? {} : { image }),
          ...(typeof continueFrom === "string" ? { continueFrom } : {}),
          ...(fallbackFrom === undefined ? {} : { fallbackFrom }),
        }),
      );
      const nextPollAt = new Date(now() + intervalMs);
      const running = await ledger.update(task.uid, job.job_id, owner, {
        operation_name: started.result.operation,
        // Polls go to the provider of the model that started the generation.
        model: started.entry.id,
        video_provider: started.entry.provider === "omni" ? "omni" : "veo",
        ...(started.fallbackFrom === undefined ? {} : { fallback_from: started.fallbackFrom }),
        ...(started.result.interactionId === undefined ? {} : { interaction_id: started.result.interactionId }),
        // What the provider will bill for this generation, charged even if the job is cancelled from here on.
        usage: this.#receipt(job, started.entry, {}),
        poll_count: 0,
        next_poll_at: nextPollAt,
        progress: 0.05,
      });
      // Cancelled while starting: the generation runs on at the provider, but nothing polls or stores it.
      if (running?.status !== "running") return;
      await this.#schedulePoll(task, job.job_id, 1);
      await ledger.release(task.uid, job.job_id, owner, { at: nextPollAt });
      return;
    }

    const pollNumber = task.phase === "poll" ? (task.poll ?? 1) : (job.poll_count ?? 0) + 1;
    if ((job.poll_count ?? 0) >= pollNumber) {
      // A repeated delivery of a poll that already ran. Its successor may never have been enqueued (the run
      // failed between its update and its enqueue): enqueue it again, which is harmless if it was (same id).
      await this.#schedulePoll(task, job.job_id, (job.poll_count ?? 0) + 1);
      await ledger.release(task.uid, job.job_id, owner, { at: job.next_poll_at ?? new Date(now()) });
      return;
    }
    const early = (job.next_poll_at?.getTime() ?? 0) - now();
    if (early > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(early, intervalMs)));

    const result = await this.#videoProvider(job.video_provider ?? "veo").poll(job.operation_name);
    const startedAt = job.started_at?.getTime() ?? job.created_at.getTime();
    const elapsed = now() - startedAt;
    if (!result.done) {
      if (elapsed > options.video.maxWaitMs) {
        throw new AppError("unavailable", "The video took too long to generate. Please try again.");
      }
      // Veo reports no progress: estimate one that always grows and never reaches 1 before the end.
      const progress = Math.min(0.95, Math.max(job.progress ?? 0, 1 - Math.exp(-elapsed / 60_000)));
      const nextPollAt = new Date(now() + intervalMs);
      const polled = await ledger.update(task.uid, job.job_id, owner, {
        poll_count: pollNumber,
        next_poll_at: nextPollAt,
        progress: Math.round(progress * 100) / 100,
      });
      if (polled?.status !== "running") return;
      await this.#schedulePoll(task, job.job_id, pollNumber + 1);
      await ledger.release(task.uid, job.job_id, owner, { at: nextPollAt });
      return;
    }
    const facts = await this.#videoFacts(result.video.data);
    const { blobs } = this.#dependencies;
    // Beside the video (same prefix), so whatever deletes the video deletes its poster.
    const path = `${mediaPaths.jobVideo(task.uid, job.job_id)}mp4`;
    const posterPath = `${mediaPaths.jobVideo(task.uid, job.job_id)}poster.webp`;
    const url = await blobs.put(path, result.video.data, result.video.mimeType);
    const posterUrl = await blobs.put(posterPath, facts.poster, "image/webp");
    const completed = await ledger.complete(task.uid, job.job_id, owner, {
      poll_count: pollNumber,
      video_path: path,
      video_url: url,
      poster_path: posterPath,
      poster_url: posterUrl,
      duration_seconds: facts.durationSeconds,
      width: facts.width,
      height: facts.height,
      usage: this.#receipt(job, this.#chain(job, "video")[0], { videoSeconds: facts.durationSeconds }),
    });
    if (completed === undefined) await this.#discardMedia(task.uid, job);
  }

  /**
   * The last delivery of a task found the job leased by another. If that holder crashed, no delivery would come
   * back for the job (the retries can run out before a lease expires), so a new task, due when the lease expires,
   * takes it over or finds it finished. Its id names the claim it follows, so duplicates collapse.
   */
  async #scheduleTakeover(queue: QueueName, task: JobTask, job: JobRecord): Promise<void> {
    const { ledger, now } = this.#dependencies;
    const due = job.lease_expires_at ?? new Date(now());
    await this.#dependencies.queue.enqueue(queue, task, {
      id: taskId(job.job_id, "takeover", String(job.attempts)),
      delaySeconds: Math.max(1, Math.ceil((due.getTime() - now()) / 1000)),
    });
    await ledger.extendDeadline(task.uid, job.job_id, { at: due });
  }

  /** The next poll, carrying the trace of the request that queued the job (each poll a sibling, not a chain). */
  async #schedulePoll(task: JobTask, jobId: string, pollNumber: number): Promise<void> {
    await this.#dependencies.queue.enqueue(
      "videoWorker",
      {
        uid: task.uid,
        job_id: jobId,
        phase: "poll",
        poll: pollNumber,
        ...(task.trace === undefined ? {} : { trace: task.trace }),
      },
      {
        id: taskId(jobId, "poll", String(pollNumber)),
        delaySeconds: this.#dependencies.options.video.pollIntervalSeconds,
      },
    );
  }
}
