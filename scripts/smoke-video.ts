/**
 * `npm run smoke:video`: asks BACKEND_URL for a video, polls `GET /video/status/{job_id}`
 * until it is done, and fetches `video_url` to check it serves an MP4. Prints progress and PASS/FAIL, never a
 * token. Same BACKEND_URL / FIREBASE_ID_TOKEN rules as smoke:chat. `-- --model <id>` picks a video model of
 * `GET /models` (default: the server's default, Gemini Omni), so each video vendor can be checked after a deploy.
 * A real generation can take several minutes (SMOKE_TIMEOUT_SECONDS, default 600).
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { checkMediaUrl } from "./lib/media-check.ts";
import { fail, getJson, postJson, smokeSetup } from "./lib/smoke.ts";

const { backendUrl, token } = await smokeSetup();
const modelFlag = process.argv.indexOf("--model");
const model = modelFlag === -1 ? undefined : process.argv[modelFlag + 1];
const submitted = await postJson<{ chat_id: string; message_id: string; job_id: string; model: string }>(
  `${backendUrl}/video/generate`,
  token,
  { prompt: "test video", request_id: `smoke-video-${randomUUID()}`, ...(model === undefined ? {} : { model }) },
);
if (!submitted.job_id.startsWith("videojob-")) fail(`unexpected job id ${submitted.job_id}`);
console.log(
  `submitted: chat_id=${submitted.chat_id} message_id=${submitted.message_id} job_id=${submitted.job_id} ` +
    `model=${submitted.model}`,
);

const deadline = Date.now() + Number(process.env.SMOKE_TIMEOUT_SECONDS ?? "600") * 1000;
let lastProgress = -1;
for (;;) {
  const status = await getJson<{
    status: string;
    progress?: number;
    video_url?: string;
    error?: string;
    model?: string;
    fallback_from?: string;
  }>(`${backendUrl}/video/status/${submitted.job_id}`, token);
  if (status.progress !== undefined && status.progress !== lastProgress) {
    lastProgress = status.progress;
    console.log(`status=${status.status} progress=${String(Math.round(status.progress * 100))}%`);
  }
  if (status.status === "error") fail(`the video job failed: ${status.error ?? "no reason given"}`);
  if (status.status === "done") {
    if (status.video_url === undefined) fail("the video job is done but has no video_url");
    const check = await checkMediaUrl(status.video_url, "video");
    if (!check.ok) fail(check.reason);
    console.log(`video: ${check.contentType}, ${String(check.size)} bytes`);
    if (status.fallback_from !== undefined) {
      console.log(`note: ${status.fallback_from} failed to start; ${status.model ?? "?"} made the video`);
    }
    console.log("PASS: video job completed and video_url present");
    break;
  }
  if (Date.now() > deadline) fail(`the video was not done in time (status=${status.status})`);
  await sleep(2_000);
}
