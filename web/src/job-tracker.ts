import type { ApiClient } from "./api-client.ts";
import type { Job } from "../../functions/src/contract/resources.ts";

/**
 * Follows an image or video job with GET /jobs/{job_id} until it is `done` or `error`, reporting progress on the
 * way. Polling (rather than a Firestore listener) keeps the client on the HTTP API alone, the same in both
 * modes. A failed poll is retried: the job goes on on the server whatever happens to one request.
 */

const POLL_INTERVAL_MS = 1_000;
const MAX_FAILED_POLLS = 5;

export async function trackJob(
  api: ApiClient,
  jobId: string,
  onProgress: (progress: number) => void,
  signal: AbortSignal,
): Promise<Job | undefined> {
  // A function, not the property itself: TypeScript would keep `aborted` narrowed to false across the awaits.
  const cancelled = () => signal.aborted;
  let failures = 0;
  while (!cancelled()) {
    try {
      const job = await api.get<Job>(`/jobs/${encodeURIComponent(jobId)}`, signal);
      failures = 0;
      if (job.status === "done" || job.status === "error") return job;
      onProgress(job.progress);
    } catch (error) {
      if (cancelled()) return undefined;
      failures += 1;
      if (failures >= MAX_FAILED_POLLS) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
  return undefined;
}
