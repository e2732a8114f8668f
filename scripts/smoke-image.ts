/**
 * `npm run smoke:image`: asks BACKEND_URL for an image, polls the chat's history until the
 * image message is done, and fetches the image URL to check it serves image bytes. Prints PASS/FAIL, never a
 * token. Same BACKEND_URL / FIREBASE_ID_TOKEN rules as smoke:chat.
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { checkMediaUrl } from "./lib/media-check.ts";
import { fail, getJson, postJson, smokeSetup } from "./lib/smoke.ts";

const { backendUrl, token } = await smokeSetup();
const submitted = await postJson<{ chat_id: string; message_id: string; job_id: string }>(
  `${backendUrl}/image/generate`,
  token,
  { prompt: "test image", request_id: `smoke-image-${randomUUID()}` },
);
console.log(`submitted: chat_id=${submitted.chat_id} message_id=${submitted.message_id} job_id=${submitted.job_id}`);

const deadline = Date.now() + Number(process.env.SMOKE_TIMEOUT_SECONDS ?? "180") * 1000;
for (;;) {
  const history = await getJson<{ messages: Record<string, unknown>[] }>(
    `${backendUrl}/history/chats/${submitted.chat_id}`,
    token,
  );
  const message = history.messages.find((item) => item.message_id === submitted.message_id);
  if (message?.status === "error") fail(`the image job failed: ${String(message.error)}`);
  const images = message?.images as { url?: string }[] | undefined;
  if (message?.type === "image" && message.status === "done" && typeof images?.[0]?.url === "string") {
    const check = await checkMediaUrl(images[0].url, "image");
    if (!check.ok) fail(check.reason);
    console.log(`image: ${check.contentType}, ${String(check.size)} bytes`);
    console.log("PASS: image generation completed and image URL present");
    break;
  }
  if (Date.now() > deadline) fail(`the image was not done in time (status=${String(message?.status)})`);
  await sleep(1_000);
}
