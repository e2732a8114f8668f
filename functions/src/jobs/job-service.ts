import type { Telemetry } from "../telemetry/telemetry.ts";
import type { AuthenticatedUser } from "../auth/id-token-verifier.ts";
import type { BlobStore } from "../blobs/blob-store.ts";
import type { DocumentDatabase } from "../database/document-database.ts";
import { AppError, invalidArgument, notFound, resourceExhausted, unavailable } from "../errors/app-error.ts";
import { describeError, type Logger } from "../logging/logger.ts";
import { monthlyQuotaCheck } from "../ops/usage-quotas.ts";
import { budgetCheck, type TierBudgets } from "../ops/budget-check.ts";
import type { Pricing } from "../models/pricing.ts";
import { ledgerPeriod, type ChargeRecord } from "../store/usage-ledger.ts";
import { jobAsk, jobReservation } from "./job-cost.ts";
import { parseInput } from "../errors/parse-input.ts";
import type { QueueName, TaskQueue } from "../queue/task-queue.ts";
import { beginGeneration, chatTitle, payloadHash } from "../store/begin-generation.ts";
import type { TransactionCheck } from "../store/transaction-check.ts";
import { newId } from "../store/ids.ts";
import { queries } from "../store/queries.ts";
import type { JobRecord, RequestKind } from "../store/records.ts";
import type { JobKind, JobSubmission, ProviderRun } from "../contract/resources.ts";
import { resolveImageInput, type ImageLimits, type ValidatedImage } from "./image-input.ts";
import type { ImageInput, RequestLimits } from "../contract/request-bodies.ts";
import type { JobLedger } from "./job-ledger.ts";
import { imageEditSchema, imageGenerateSchema, videoGenerateSchema } from "../contract/request-bodies.ts";
import { chooseJobModel } from "./job-model.ts";
import type { ModelChoice, ModelChoices } from "../models/model-choices.ts";
import { mediaPaths } from "../store/media-paths.ts";

/** What job submission reads of the configuration. */
export interface JobServiceOptions {
  /** The request-body limits (one object per configuration: the body schemas are built per limits). */
  readonly limits: RequestLimits;
  readonly quotas: {
    /** Generations per user per calendar month, by tier; 0 is unlimited. */
    readonly monthly: { readonly free: number; readonly paid: number };
    /** Unfinished jobs one user may have at once. */
    readonly activeJobsPerUser: number;
    /** Unfinished jobs one chat may have at once. */
    readonly activeJobsPerChat: number;
    /** Money per user per calendar month, by tier, in micro-dollars; 0 is unlimited. */
    readonly budgets: TierBudgets;
  };
  /** Limits on an input image (to edit, to animate), checked before anything is written. */
  readonly inputImage: ImageLimits;
  /** How long a request_id is remembered for idempotency. */
  readonly requestRetentionDays: number;
}

interface JobServiceDependencies {
  readonly database: DocumentDatabase;
  readonly blobs: BlobStore;
  readonly queue: TaskQueue;
  readonly ledger: JobLedger;
  readonly options: JobServiceOptions;
  readonly logger: Logger;
  readonly now: () => number;
  /** The models a caller may pick, with their fallback chains. */
  readonly models: ModelChoices;
  /** What jobs may cost, for their budget reservations. */
  readonly pricing: Pricing;
  /** Carries the request's trace into the task it queues. */
  readonly telemetry?: Telemetry;
  /** How each kind of job runs: live, simulated, or undefined when not configured. */
  readonly providers: { readonly image: ProviderRun | undefined; readonly video: ProviderRun | undefined };
}

interface PreparedJob {
  readonly kind: JobKind;
  readonly requestKind: RequestKind;
  readonly prompt: string;
  readonly requestId: string | undefined;
  readonly chatId: string | undefined;
  readonly models: ModelChoice<"image"> | ModelChoice<"video">;
  readonly provider: ProviderRun;
  /** What the request means, for the idempotency fingerprint. */
  readonly fingerprint: Record<string, unknown>;
  /** Job input fields; image paths are filled in once the job id is known. */
  readonly options: Record<string, unknown>;
  readonly images: Readonly<Record<string, ValidatedImage>>;
  /** `tool`: the chat model asked for it mid-answer, so the chat already holds the ask (no user message). */
  readonly origin: JobOrigin;
}

/** Who asks for a job: a client through a route, or the chat model through a tool. */
export type JobOrigin = "route" | "tool";

const EXTENSIONS: Readonly<Record<string, string>> = { "image/png": "png", "image/jpeg": "jpg", "image/webp": "webp" };

/**
 * Image and video submissions: validate (before anything is written), start the generation in one transaction
 * (chat, messages, request mapping, job, quota and active-job limits), store the input images as the job's own
 * copies (an upload the job names may be deleted or expire; the job's inputs go with the job), enqueue the
 * worker task. If the task cannot be enqueued, the job and its message end `error` and the caller gets 503:
 * nothing is left pending.
 */
export class JobService {
  readonly #dependencies: JobServiceDependencies;

  constructor(dependencies: JobServiceDependencies) {
    this.#dependencies = dependencies;
  }

  async submitImage(user: AuthenticatedUser, body: unknown, origin: JobOrigin = "route"): Promise<JobSubmission> {
    const input = parseInput(imageGenerateSchema(this.#dependencies.options.limits), body);
    const provider = this.#provider("image");
    return this.#submit(user, {
      origin,
      kind: "image",
      requestKind: "image",
      prompt: input.prompt,
      requestId: input.request_id,
      chatId: input.chat_id,
      models: chooseJobModel(this.#dependencies.models, "image", input.model, { aspectRatio: input.aspect_ratio }),
      provider,
      fingerprint: {
        prompt: input.prompt,
        chat_id: input.chat_id,
        aspect_ratio: input.aspect_ratio,
        count: input.count,
        model: input.model,
      },
      options: { aspect_ratio: input.aspect_ratio, count: input.count },
      images: {},
    });
  }

  async submitImageEdit(user: AuthenticatedUser, body: unknown, origin: JobOrigin = "route"): Promise<JobSubmission> {
    const input = parseInput(imageEditSchema(this.#dependencies.options.limits), body);
    const provider = this.#provider("image");
    const models = chooseJobModel(this.#dependencies.models, "image", input.model, {
      aspectRatio: input.aspect_ratio,
      edit: true,
    });
    const image = await this.#image(user.uid, input.image, "image");
    const mask = input.mask === undefined ? undefined : await this.#image(user.uid, input.mask, "mask");
    if (mask !== undefined && (mask.width !== image.width || mask.height !== image.height)) {
      throw invalidArgument("The mask must be the same size as the image.", {
        mask: `Must be ${image.width}x${image.height} like the image (it is ${mask.width}x${mask.height})`,
      });
    }
    return this.#submit(user, {
      origin,
      kind: "image_edit",
      requestKind: "image_edit",
      prompt: input.prompt,
      requestId: input.request_id,
      chatId: input.chat_id,
      models,
      provider,
      fingerprint: {
        prompt: input.prompt,
        chat_id: input.chat_id,
        aspect_ratio: input.aspect_ratio,
        image: imageFingerprint(input.image),
        mask: input.mask === undefined ? undefined : imageFingerprint(input.mask),
        model: input.model,
      },
      options: {
        aspect_ratio: input.aspect_ratio,
        count: 1,
        width: image.width,
        height: image.height,
        source_uploads: sourceUploads(input.image, input.mask),
      },
      images: { image, ...(mask === undefined ? {} : { mask }) },
    });
  }

  async submitVideo(user: AuthenticatedUser, body: unknown, origin: JobOrigin = "route"): Promise<JobSubmission> {
    const input = parseInput(videoGenerateSchema(this.#dependencies.options.limits), body);
    const provider = this.#provider("video");
    const previous =
      input.previous_job_id === undefined ? undefined : await this.#continuable(user.uid, input.previous_job_id);
    const models = chooseJobModel(this.#dependencies.models, "video", input.model, {
      aspectRatio: input.aspect_ratio,
      durationSeconds: input.duration_seconds,
      image: input.image !== undefined,
      continues: previous !== undefined,
    });
    const image = input.image === undefined ? undefined : await this.#image(user.uid, input.image, "image");
    return this.#submit(user, {
      origin,
      kind: "video",
      requestKind: "video",
      prompt: input.prompt,
      requestId: input.request_id,
      // A continued video goes on in the chat of the one it changes, unless the request names another.
      chatId: input.chat_id ?? previous?.chat_id,
      models,
      provider,
      fingerprint: {
        prompt: input.prompt,
        chat_id: input.chat_id,
        aspect_ratio: input.aspect_ratio,
        duration_seconds: input.duration_seconds,
        image: input.image === undefined ? undefined : imageFingerprint(input.image),
        model: input.model,
        previous_job_id: input.previous_job_id,
      },
      options: {
        aspect_ratio: input.aspect_ratio,
        duration_seconds: input.duration_seconds,
        source_uploads: sourceUploads(input.image),
        ...(previous === undefined
          ? {}
          : { previous_job_id: previous.job_id, previous_interaction_id: previous.interaction_id }),
      },
      images: image === undefined ? {} : { image },
    });
  }

  /** A job of the caller's; someone else's is not found. */
  async job(uid: string, jobId: string): Promise<JobRecord> {
    const job = await this.#dependencies.ledger.get(uid, jobId);
    if (job === undefined) throw notFound("Job");
    return job;
  }

  /** A finished video of the caller's whose generation can be continued (Omni keeps it as an interaction). */
  async #continuable(uid: string, jobId: string): Promise<JobRecord> {
    const previous = await this.job(uid, jobId);
    if (previous.kind !== "video" || previous.status !== "done" || previous.interaction_id === undefined) {
      throw invalidArgument("This video cannot be continued.", {
        previous_job_id: "Must be a finished video made by a model that can continue it (Gemini Omni)",
      });
    }
    return previous;
  }

  #provider(kind: "image" | "video"): ProviderRun {
    const run = this.#dependencies.providers[kind];
    if (run === undefined) throw unavailable(`The ${kind} model is not configured on this server.`);
    return run;
  }

  #image(uid: string, input: ImageInput, field: string): Promise<ValidatedImage> {
    const { blobs, options } = this.#dependencies;
    return resolveImageInput(uid, input, field, blobs, options.inputImage);
  }

  async #submit(user: AuthenticatedUser, prepared: PreparedJob): Promise<JobSubmission> {
    const { database, ledger, options, now, pricing } = this.#dependencies;
    const at = new Date(now());
    const requestId = prepared.requestId ?? newId("req");
    const { month, day } = ledgerPeriod(at);
    const inputImages = Object.keys(prepared.images).filter((name) => name !== "mask").length;
    const charge: ChargeRecord = {
      month,
      day,
      provider: prepared.provider,
      kind: prepared.kind === "video" ? "video" : "image",
      reserved_micros: jobReservation(
        pricing,
        [prepared.models.model, ...prepared.models.chain],
        jobAsk(prepared.kind, prepared.prompt, prepared.options, inputImages),
        at,
      ),
    };
    const inputPaths = (jobId: string): Record<string, string> =>
      Object.fromEntries(
        Object.entries(prepared.images).map(([name, image]) => [
          `${name}_path`,
          `${mediaPaths.jobInputs(user.uid, jobId)}${name}.${EXTENSIONS[image.mimeType] ?? "bin"}`,
        ]),
      );
    const start = await beginGeneration(database, {
      uid: user.uid,
      requestId,
      kind: prepared.requestKind,
      payloadHash: payloadHash(prepared.requestKind, prepared.fingerprint),
      chatId: prepared.chatId,
      title: chatTitle(prepared.prompt),
      ...(prepared.origin === "tool" ? {} : { userMessage: { content: prepared.prompt } }),
      assistantMessage: {
        type: prepared.kind === "video" ? "video" : "image",
        status: "pending",
        model: prepared.models.model.id,
        provider: prepared.provider,
        fields: { progress: 0 },
      },
      job: {
        idPrefix: prepared.kind === "video" ? "videojob" : "job",
        build: ({ jobId, chatId, messageId }): JobRecord => ({
          job_id: jobId,
          kind: prepared.kind,
          chat_id: chatId,
          message_id: messageId,
          request_id: requestId,
          status: "queued",
          prompt: prepared.prompt,
          model: prepared.models.model.id,
          provider: prepared.provider,
          input: {
            ...prepared.options,
            ...inputPaths(jobId),
            fallback_models: prepared.models.chain.map((entry) => entry.id),
          },
          attempts: 0,
          abandon_at: ledger.deadline({ at }),
          progress: 0,
          media_deleted: false,
          charge,
          created_at: at,
          updated_at: at,
        }),
      },
      checks: [
        monthlyQuotaCheck({
          uid: user.uid,
          claims: user,
          limits: options.quotas.monthly,
          now: at,
        }),
        this.#activeJobsCheck(user.uid, prepared.chatId),
        budgetCheck({ uid: user.uid, claims: user, budgets: options.quotas.budgets, charge, now: at }),
      ],
      now: at,
      requestRetentionDays: options.requestRetentionDays,
    });

    if (!start.created) {
      const jobId = start.request.job_id;
      if (jobId === undefined) throw new AppError("conflict", "This request_id belongs to another kind of request.");
      const job = await this.job(user.uid, jobId);
      // The first attempt may have died between its transaction and its enqueue, perhaps before storing the
      // inputs: store them and enqueue again (same paths, same task id, so both are harmless if done already).
      if (job.status === "queued") {
        await this.#storeInputs(user.uid, job, prepared);
        await this.#enqueue(user.uid, job);
      }
      return this.#answer(job.status === "queued" ? job : await this.job(user.uid, jobId));
    }

    const job = start.job;
    if (job === undefined) throw new Error("a media generation always creates a job");
    await this.#storeInputs(user.uid, job, prepared);
    await this.#enqueue(user.uid, job);
    return this.#answer(job);
  }

  /** Writes the job's own copies of its input images, at the paths its transaction recorded. */
  async #storeInputs(uid: string, job: JobRecord, prepared: PreparedJob): Promise<void> {
    try {
      for (const [name, image] of Object.entries(prepared.images)) {
        const path = job.input[`${name}_path`];
        if (typeof path === "string") await this.#dependencies.blobs.put(path, image.data, image.mimeType);
      }
    } catch (error) {
      await this.#abandon(uid, job, error, "Could not store the input image.");
    }
  }

  async #enqueue(uid: string, job: JobRecord): Promise<void> {
    const queue: QueueName = job.kind === "video" ? "videoWorker" : "imageWorker";
    try {
      const trace = this.#dependencies.telemetry?.inject() ?? {};
      await this.#dependencies.queue.enqueue(
        queue,
        { uid, job_id: job.job_id, phase: "start", ...(Object.keys(trace).length === 0 ? {} : { trace }) },
        { id: job.job_id },
      );
    } catch (error) {
      await this.#abandon(uid, job, error, "Could not queue the job. Please try again.");
    }
  }

  /**
   * Ends a job that cannot start, so nothing is left pending, removes the input images it stored (no
   * worker will ever read them; a failed job keeps nothing), and answers 503.
   */
  async #abandon(uid: string, job: JobRecord, error: unknown, message: string): Promise<never> {
    const { logger, ledger, blobs } = this.#dependencies;
    logger.error("job submission failed", { job_id: job.job_id, ...describeError(error) });
    await ledger.fail(uid, job.job_id, { code: "unavailable", message });
    await blobs.deletePrefix(mediaPaths.jobInputs(uid, job.job_id)).catch((cleanupError: unknown) => {
      logger.warn("abandoned job inputs not deleted", { job_id: job.job_id, ...describeError(cleanupError) });
    });
    throw unavailable(message, error);
  }

  #answer(job: JobRecord): JobSubmission {
    return {
      ok: true,
      chat_id: job.chat_id,
      message_id: job.message_id,
      job_id: job.job_id,
      request_id: job.request_id,
      status: job.status,
      model: job.fallback_from ?? job.model,
    };
  }

  /** At most `activeJobsPerChat` active jobs in a chat and `activeJobsPerUser` per user. */
  #activeJobsCheck(uid: string, chatId: string | undefined): TransactionCheck {
    const { activeJobsPerUser, activeJobsPerChat } = this.#dependencies.options.quotas;
    return {
      reads: [],
      decide: async (_documents, transaction) => {
        const active = await transaction.query<JobRecord>(queries.activeJobsOfUser(uid, activeJobsPerUser));
        if (active.length >= activeJobsPerUser) {
          throw resourceExhausted(
            `You already have ${active.length} images or videos in progress. Wait for one to finish.`,
            10,
            { limit: activeJobsPerUser, scope: "user" },
          );
        }
        if (chatId !== undefined) {
          const inChat = await transaction.query<JobRecord>(queries.activeJobsOfChat(uid, chatId, activeJobsPerChat));
          if (inChat.length >= activeJobsPerChat) {
            throw resourceExhausted(
              `This chat already has ${inChat.length} images or videos in progress. Wait for one to finish.`,
              10,
              { limit: activeJobsPerChat, scope: "chat" },
            );
          }
        }
        return undefined;
      },
    };
  }
}

/** The caller's uploads a job used (deleted with the job's chat: "remove my chat" removes its pictures too). */
function sourceUploads(...inputs: (ImageInput | undefined)[]): string[] {
  return inputs.flatMap((input) => (input !== undefined && "path" in input ? [input.path] : []));
}

/** What identifies an image input for idempotency: its path, or a hash of its bytes. */
function imageFingerprint(input: ImageInput): unknown {
  return "path" in input
    ? { path: input.path }
    : { data: payloadHash("image", input.data), mime_type: input.mime_type };
}
