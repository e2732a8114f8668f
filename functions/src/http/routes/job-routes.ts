import type { BlobStore } from "../../blobs/blob-store.ts";
import type { Settings } from "../../config/settings.ts";
import { invalidArgument } from "../../errors/app-error.ts";
import type { JobService } from "../../jobs/job-service.ts";
import { toApiJob } from "../../jobs/job-view.ts";
import { imageInputSchema, resolveImageInput } from "../../jobs/image-input.ts";
import { CLIENT_ID_PATTERN, newId } from "../../store/ids.ts";
import type { RequestContext } from "../request-context.ts";
import type { Route } from "../router.ts";
import { parseInput } from "../validation.ts";
import { mediaPaths } from "../../store/media-paths.ts";

/**
 * `POST /image/generate`, `POST /image/edit`, `POST /video/generate`, `GET /video/status/{job_id}`,
 * `GET /jobs/{job_id}`, and `POST /uploads` (+) for clients without direct Storage access (embedded mode).
 */
export function jobRoutes(jobs: JobService, blobs: BlobStore, settings: Settings): Route[] {
  const status = async (context: RequestContext) => {
    const jobId = context.params.jobId ?? "";
    if (!CLIENT_ID_PATTERN.test(jobId)) throw invalidArgument("Invalid job_id.", { job_id: "Not a job id" });
    context.logFields.job_id = jobId;
    const job = await jobs.job(context.caller.uid, jobId);
    context.logFields.chat_id = job.chat_id;
    context.sendJson(200, await toApiJob(job, blobs));
  };
  const submit =
    (type: "image" | "video", run: (context: RequestContext, body: unknown) => ReturnType<JobService["submitImage"]>) =>
    async (context: RequestContext) => {
      context.logFields.generation_type = type;
      const submission = await run(context, await context.readJson());
      context.logFields.chat_id = submission.chat_id;
      context.logFields.job_id = submission.job_id;
      context.logFields.model = submission.model;
      context.sendJson(200, submission);
    };

  return [
    {
      method: "POST",
      path: "/image/generate",
      access: "user",
      generating: true,
      handle: submit("image", (context, body) => jobs.submitImage(context.caller, body)),
    },
    {
      method: "POST",
      path: "/image/edit",
      access: "user",
      generating: true,
      handle: submit("image", (context, body) => jobs.submitImageEdit(context.caller, body)),
    },
    {
      method: "POST",
      path: "/video/generate",
      access: "user",
      generating: true,
      handle: submit("video", (context, body) => jobs.submitVideo(context.caller, body)),
    },
    { method: "GET", path: "/video/status/:jobId", access: "user", handle: status },
    { method: "GET", path: "/jobs/:jobId", access: "user", handle: status },
    {
      method: "POST",
      path: "/uploads",
      access: "user",
      handle: async (context) => {
        const input = parseInput(imageInputSchema, await context.readJson());
        if ("path" in input) throw invalidArgument("Send the image bytes.", { data: "Base64-encoded image bytes" });
        const limits = { maxBytes: settings.MAX_ATTACHMENT_SIZE_BYTES, maxDimension: settings.MAX_IMAGE_DIMENSION };
        const image = await resolveImageInput(context.caller.uid, input, "image", blobs, limits);
        const extension = image.mimeType === "image/jpeg" ? "jpg" : image.mimeType.slice("image/".length);
        const path = `${mediaPaths.uploads(context.caller.uid)}${newId("upload")}.${extension}`;
        const url = await blobs.put(path, image.data, image.mimeType);
        context.sendJson(200, {
          ok: true,
          path,
          url,
          mime_type: image.mimeType,
          size: image.data.length,
          width: image.width,
          height: image.height,
        });
      },
    },
  ];
}
