import type { BlobStore } from "../../blobs/blob-store.ts";
import { invalidArgument } from "../../errors/app-error.ts";
import type { JobService } from "../../jobs/job-service.ts";
import { toApiJob } from "../../jobs/job-view.ts";
import { CLIENT_ID_PATTERN } from "../../contract/identifiers.ts";
import { readIdempotentBody } from "../idempotency-key.ts";
import type { RequestContext } from "../request-context.ts";
import type { Route } from "../router.ts";

/**
 * `POST /image/generate`, `POST /image/edit`, `POST /video/generate`, `GET /video/status/{job_id}`,
 * `GET /jobs/{job_id}`.
 */
export function jobRoutes(jobs: JobService, blobs: BlobStore): Route[] {
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
      const submission = await run(context, await readIdempotentBody(context));
      context.logFields.chat_id = submission.chat_id;
      context.logFields.job_id = submission.job_id;
      context.logFields.model = submission.model;
      context.sendJson(200, submission);
    };

  return [
    {
      method: "POST",
      path: "/image/generate",
      access: "jobs",
      rateLimited: true,
      handle: submit("image", (context, body) => jobs.submitImage(context.caller, body)),
    },
    {
      method: "POST",
      path: "/image/edit",
      access: "jobs",
      rateLimited: true,
      handle: submit("image", (context, body) => jobs.submitImageEdit(context.caller, body)),
    },
    {
      method: "POST",
      path: "/video/generate",
      access: "jobs",
      rateLimited: true,
      handle: submit("video", (context, body) => jobs.submitVideo(context.caller, body)),
    },
    { method: "GET", path: "/video/status/:jobId", access: "jobs", handle: status },
    { method: "GET", path: "/jobs/:jobId", access: "jobs", handle: status },
  ];
}
