/**
 * `npm run smoke:chat [-- --grounding]`: streams one chat answer from BACKEND_URL and checks
 * that it was persisted with `status: done`. With --grounding it asks a grounded question and also checks the
 * stored answer's `grounding`, `citations` and `[n]` markers.
 *
 * Reads BACKEND_URL (default: the local stack) and FIREBASE_ID_TOKEN; without a token it signs up a test user
 * on the Auth emulator when one answers (FIREBASE_AUTH_EMULATOR_HOST, default 127.0.0.1:9099). Prints the
 * meta ids and PASS/FAIL lines, never a token or key. Exit 0 on PASS, 1 on FAIL.
 */
import { randomUUID } from "node:crypto";
import { parseSse, type ParsedEvent } from "../functions/src/contract/sse-parser.ts";
import { smokeSetup, fail, getJson } from "./lib/smoke.ts";
import type { MetaEvent } from "../functions/src/contract/chat-events.ts";
import type { ChatHistory } from "../functions/src/contract/resources.ts";

const grounding = process.argv.includes("--grounding");
const { backendUrl, token } = await smokeSetup();

const requestId = `smoke-${randomUUID()}`;
const response = await fetch(`${backendUrl}/chat/stream`, {
  method: "POST",
  headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
  body: JSON.stringify({
    message: grounding ? "Who is the current president of France?" : "hello",
    request_id: requestId,
    grounding,
  }),
  signal: AbortSignal.timeout(120_000),
});
if (!response.ok || response.body === null) {
  fail(`POST /chat/stream answered ${response.status}: ${await response.text()}`);
}

const events: ParsedEvent[] = [];
await parseSse(response.body, { onEvent: (event) => events.push(event) });
const meta = events.find((event) => event.event === "meta");
if (meta === undefined) fail("the stream had no meta event");
const { chat_id: chatId, message_id: messageId } = JSON.parse(meta.data) as MetaEvent;
console.log(`meta: chat_id=${chatId} message_id=${messageId} request_id=${requestId}`);
const last = events.at(-1);
if (last?.event !== "done") fail(`the stream ended with ${last?.event ?? "nothing"}: ${last?.data ?? ""}`);
if (!events.some((event) => event.event === "token")) fail("the stream carried no token events");
if (
  grounding &&
  events.findIndex((event) => event.event === "sources") > events.findIndex((event) => event.event === "token")
) {
  fail("the sources event did not come before the first token");
}

const history = await getJson<ChatHistory>(`${backendUrl}/history/chats/${chatId}`, token);
const stored = history.messages.find((message) => message.message_id === messageId);
if (stored === undefined) fail("the answer is not in the chat's history");
if (stored.status !== "done") fail(`the stored answer has status=${stored.status}`);
console.log("PASS: chat streaming completed and persisted (status=done)");

if (grounding) {
  const results = stored.grounding;
  const citations = stored.citations;
  if (!Array.isArray(results) || results.length === 0) fail("the grounded answer has no grounding results");
  if (!Array.isArray(citations) || citations.length === 0) fail("the grounded answer has no citations");
  if (!/\[\d+\]/.test(stored.content)) fail("the grounded answer has no [n] citation markers");
  console.log(
    `PASS: grounded answer has grounding (${results.length}), citations (${citations.length}) and [n] markers`,
  );
}
