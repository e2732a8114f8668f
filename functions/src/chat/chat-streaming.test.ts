import assert from "node:assert/strict";
import { startApiServer, type ApiServer } from "../test-support/api-server.ts";
import { authEmulator, type TestUser } from "../test-support/auth-emulator.ts";
import { echoStream, ProviderWireServer, streamChunks, textChunks } from "../test-support/provider-wire-server.ts";
import { openSse, type SseSession } from "../test-support/sse-client.ts";
import { paths } from "../store/paths.ts";
import type { MessageRecord } from "../store/records.ts";

/**
 * The chat routes, `POST /chat/stream`, `GET /chat/stream/{message_id}`, `POST /chat/stop`, and the history
 * routes, through the real `api` handler, with the real Gemini adapter talking to a local Gemini wire-format
 * server, and ID tokens from the real Auth emulator: status codes and envelopes, SSE framing, headers and
 * heartbeats, `Last-Event-ID` and `Idempotency-Key`, refusals, and other users' resources. What the streaming
 * core does behind them (offsets, writes, liveness, grace, stop, resume, failures, idempotency) is specified in
 * process: `stream-session.test.ts`, `stream-follower.test.ts`, `chat-service.test.ts`.
 */
describe("chat streaming", function () {
  this.timeout(30_000);
  let gemini: ProviderWireServer;
  let server: ApiServer;
  let alice: TestUser;
  let bob: TestUser;
  const INTERVAL_MS = 200;

  before(async () => {
    gemini = await ProviderWireServer.start();
    gemini.setDefault("streamGenerateContent", echoStream());
    server = await startApiServer({
      GEMINI_API_KEY: "AIzaFakeKeyForChatTests",
      GEMINI_ENDPOINT: gemini.url,
      STREAM_UPDATE_INTERVAL_MS: String(INTERVAL_MS),
      SSE_HEARTBEAT_SECONDS: "1",
      DISCONNECT_GRACE_SECONDS: "1",
      RESUME_ATTACH_TIMEOUT_SECONDS: "1",
      STALE_STREAM_SECONDS: "2",
      PROVIDER_TIMEOUT_SECONDS: "5",
      MAX_MESSAGE_CHARS: "2000",
      MAX_ATTACHMENT_SIZE_BYTES: "1000",
      RATE_LIMIT_RPM: "6000",
      RATE_LIMIT_BURST: "1000",
      RATE_LIMIT_FREE: "0",
    });
    const emulator = await authEmulator();
    [alice, bob] = [await emulator.createUser(), await emulator.createUser()];
  });
  after(async () => {
    await server.close();
    await gemini.close();
  });
  beforeEach(() => gemini.reset());

  const headers = (user: TestUser) => ({ Authorization: `Bearer ${user.idToken}`, "Content-Type": "application/json" });
  const chat = (body: unknown, user = alice, extraHeaders: Record<string, string> = {}) =>
    openSse(`${server.url}/chat/stream`, {
      method: "POST",
      headers: { ...headers(user), ...extraHeaders },
      body: JSON.stringify(body),
    });
  const resume = (messageId: string, user = alice, lastEventId?: string, query = "") =>
    openSse(`${server.url}/chat/stream/${messageId}${query}`, {
      headers: { ...headers(user), ...(lastEventId === undefined ? {} : { "Last-Event-ID": lastEventId }) },
    });
  const getJson = async (path: string, user = alice) => {
    const response = await fetch(`${server.url}${path}`, { headers: headers(user) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const meta = (session: SseSession) =>
    session.events[0]?.json<{ chat_id: string; message_id: string }>() ?? assert.fail("no meta");
  const storedMessage = async (user: TestUser, messageId: string) =>
    (await server.services.database.get<MessageRecord>(paths.message(user.uid, messageId)))?.data;

  describe("a new answer", () => {
    it("is an unbuffered SSE stream: meta at id 0, then each event's id the content offset it reaches", async () => {
      const session = await chat({ message: "hello there" });
      await session.finished;
      assert.equal(session.status, 200);
      assert.match(session.headers.get("content-type") ?? "", /^text\/event-stream/);
      assert.equal(session.headers.get("cache-control"), "no-cache, no-transform");
      assert.equal(session.headers.get("x-accel-buffering"), "no");
      const names = session.events.map((event) => event.event);
      assert.equal(names[0], "meta");
      assert.equal(names.at(-1), "done");
      assert.ok(names.slice(1, -1).every((name) => name === "token"));
      const first = session.events[0]?.json();
      assert.deepEqual(Object.keys(first ?? {}).sort(), [
        "chat_id",
        "grounding",
        "message_id",
        "model",
        "request_id",
        "resumed",
      ]);
      assert.equal(first?.resumed, false);
      assert.equal(first.model, "gemini-3.8-flash");
      assert.equal(session.events[0]?.id, "0");
      let delivered = 0;
      for (const event of session.events.filter((item) => item.event === "token")) {
        delivered += event.json<{ text: string }>().text.length;
        assert.equal(event.id, String(delivered));
      }
      assert.equal(session.text(), "You said: hello there. That is all.");
      const done = session.events.at(-1)?.json();
      assert.equal(done?.status, "done");
      // The receipt: 7 in at $0.75/M and 6 out at $3.75/M is 27.75 micro-dollars, rounded up once.
      assert.deepEqual(done.usage, { input_tokens: 7, output_tokens: 6, cost_usd: 0.000028 });
      assert.equal(session.events.at(-1)?.id, String(delivered));
    });

    it("sends heartbeat comments while the model is slow", async () => {
      gemini.next("streamGenerateContent", (_, response) =>
        streamChunks(response, textChunks(["slow ", "and ", "steady"]), { delayMs: 700 }),
      );
      const session = await chat({ message: "take your time" });
      await session.finished;
      assert.ok(session.comments.includes("ping"), `comments: ${JSON.stringify(session.comments)}`);
    });
  });

  /** Scripts the next answer as `count` pieces `delayMs` apart. */
  const slowAnswer = (count: number, delayMs: number) => {
    const pieces = Array.from({ length: count }, (_, index) => `part${index} `);
    gemini.next("streamGenerateContent", (_, response) => streamChunks(response, textChunks(pieces), { delayMs }));
    return { full: pieces.join("") };
  };

  describe("idempotency on POST /chat/stream: Last-Event-ID and Idempotency-Key", () => {
    it("continues a POST retried with Last-Event-ID mid-answer (a fetch-based SSE client's retry) without repeating text", async () => {
      const { full } = slowAnswer(12, 120);
      const body = { message: "cut me off", request_id: "idem-retry-live-1" };
      const first = await chat(body);
      await first.waitFor((event) => event.event === "token" && Number(event.id) > 10);
      first.disconnect();
      const received = first.text();
      const lastEventId = first.events.at(-1)?.id ?? assert.fail("no id");
      const retried = await chat(body, alice, { "Last-Event-ID": lastEventId });
      await retried.finished;
      assert.equal(retried.events[0]?.json().resumed, true);
      assert.equal(retried.events[0].id, lastEventId);
      assert.equal(received + retried.text(), full);
      assert.equal(retried.events.at(-1)?.event, "done");
      assert.equal(gemini.count("streamGenerateContent"), 1);
    });

    it("replays a finished answer from the Last-Event-ID a retried POST sends", async () => {
      const body = { message: "finished before the retry", request_id: "idem-retry-done-1" };
      const first = await chat(body);
      await first.finished;
      const retried = await chat(body, alice, { "Last-Event-ID": "7" });
      await retried.finished;
      assert.equal(retried.text(), first.text().slice(7));
      assert.equal(retried.events.at(-1)?.event, "done");
      const malformed = await chat(body, alice, { "Last-Event-ID": "seven" });
      assert.equal(malformed.status, 400);
    });

    it("accepts the Idempotency-Key as the draft standard quotes it", async () => {
      const quoted = await chat({ message: "quoted key" }, alice, { "Idempotency-Key": '"idem-key-quoted"' });
      await quoted.finished;
      assert.equal(quoted.events[0]?.json().request_id, "idem-key-quoted");
    });

    it("takes the Idempotency-Key header as the request_id: the same key twice is one answer", async () => {
      const key = { "Idempotency-Key": "idem-key-1" };
      const first = await chat({ message: "keyed" }, alice, key);
      await first.finished;
      assert.equal(first.events[0]?.json().request_id, "idem-key-1");
      const calls = gemini.count("streamGenerateContent");
      const again = await chat({ message: "keyed" }, alice, key);
      await again.finished;
      assert.equal(gemini.count("streamGenerateContent"), calls);
      assert.equal(meta(again).message_id, meta(first).message_id);
      assert.equal(again.text(), first.text());
      const agreeing = await chat({ message: "keyed", request_id: "idem-key-1" }, alice, key);
      await agreeing.finished;
      assert.equal(meta(agreeing).message_id, meta(first).message_id);
    });

    it("refuses an Idempotency-Key that disagrees with the request_id (409) or is not an id (400), writing nothing", async () => {
      const disagreeing = await chat({ message: "two keys", request_id: "idem-key-body" }, alice, {
        "Idempotency-Key": "idem-key-header",
      });
      assert.equal(disagreeing.status, 409);
      assert.equal((disagreeing.errorBody?.error as { code: string }).code, "conflict");
      const malformed = await chat({ message: "bad key" }, alice, { "Idempotency-Key": "not an id!" });
      assert.equal(malformed.status, 400);
      const wrongType = await chat({ message: "typed key", request_id: null }, alice, {
        "Idempotency-Key": "idem-key-null",
      });
      assert.equal(wrongType.status, 400, "a request_id that is not a string is the body's error, not a conflict");
      for (const requestId of ["idem-key-body", "idem-key-header"]) {
        assert.equal(await server.services.database.get(paths.request(alice.uid, requestId)), null);
      }
    });
  });

  describe("resume and stop", () => {
    it("resumes a finished message from an offset given as Last-Event-ID or ?after=", async () => {
      const session = await chat({ message: "resume me later" });
      await session.finished;
      const full = session.text();
      const fromHeader = await resume(meta(session).message_id, alice, "10");
      await fromHeader.finished;
      assert.equal(fromHeader.text(), full.slice(10));
      assert.equal(fromHeader.events.at(-1)?.event, "done");
      const fromQuery = await resume(meta(session).message_id, alice, undefined, "?after=4");
      await fromQuery.finished;
      assert.equal(fromQuery.text(), full.slice(4));
      const invalid = await resume(meta(session).message_id, alice, "-3");
      assert.equal(invalid.status, 400);
    });

    it("stops an answer over POST /chat/stop; its stream and a resume of it end with an aborted error", async () => {
      slowAnswer(40, 100);
      const session = await chat({ message: "to be stopped" });
      await session.waitFor((event) => event.event === "token");
      const response = await fetch(`${server.url}/chat/stop`, {
        method: "POST",
        headers: headers(alice),
        body: JSON.stringify({ message_id: meta(session).message_id }),
      });
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { ok: true, message_id: meta(session).message_id, status: "aborted" });
      await session.finished;
      assert.equal(session.events.at(-1)?.event, "error");
      assert.equal(session.events.at(-1)?.json().code, "aborted");
      const resumed = await resume(meta(session).message_id);
      await resumed.finished;
      assert.equal(resumed.events.at(-1)?.json().code, "aborted");
    });
  });

  describe("someone else's chats and messages are not found", () => {
    it("answers 404 for another user's chat and message on every route", async () => {
      const session = await chat({ message: "private" });
      await session.finished;
      const { chat_id, message_id } = meta(session);
      assert.equal((await getJson(`/history/chats/${chat_id}`, bob)).status, 404);
      assert.equal((await resume(message_id, bob)).status, 404);
      const stop = await fetch(`${server.url}/chat/stop`, {
        method: "POST",
        headers: headers(bob),
        body: JSON.stringify({ message_id }),
      });
      assert.equal(stop.status, 404);
      const continued = await chat({ message: "hijack", chat_id }, bob);
      assert.equal(continued.status, 404);
      const removal = await fetch(`${server.url}/history/chats/${chat_id}`, {
        method: "DELETE",
        headers: headers(bob),
      });
      assert.equal(removal.status, 404);
      assert.equal((await getJson(`/history/chats/${chat_id}`)).status, 200, "still there for its owner");
    });
  });

  describe("bad input is refused before anything is written", () => {
    async function expectRefusal(body: unknown, status: number, code: string, field?: string) {
      const before = (await getJson("/history/chats?limit=100", bob)).body.chats as unknown[];
      const calls = gemini.count("streamGenerateContent");
      const session = await chat(body, bob);
      assert.equal(session.status, status, JSON.stringify(session.errorBody));
      const error = session.errorBody?.error as { code: string; details?: { fields?: Record<string, string> } };
      assert.equal(error.code, code);
      if (field !== undefined) assert.ok(error.details?.fields?.[field], `details.fields.${field}`);
      const after = (await getJson("/history/chats?limit=100", bob)).body.chats as unknown[];
      assert.equal(after.length, before.length, "no chat was created");
      assert.equal(gemini.count("streamGenerateContent"), calls, "the model was not called");
    }

    it("an empty or blank message", async () => {
      await expectRefusal({ message: "" }, 400, "invalid_argument", "message");
      await expectRefusal({ message: "   \n " }, 400, "invalid_argument", "message");
      await expectRefusal({}, 400, "invalid_argument", "message");
    });

    it("a message over MAX_MESSAGE_CHARS", async () => {
      await expectRefusal({ message: "x".repeat(2001) }, 400, "invalid_argument", "message");
    });

    it("an unknown model", async () => {
      await expectRefusal({ message: "hi", model: "gpt-5" }, 400, "invalid_argument", "model");
    });

    it("a malformed chat_id, and a chat that does not exist", async () => {
      await expectRefusal({ message: "hi", chat_id: "../../etc" }, 400, "invalid_argument", "chat_id");
      await expectRefusal({ message: "hi", chat_id: "chat-doesNotExist" }, 404, "not_found");
    });

    it("a request_id with bad characters or over 128 characters", async () => {
      await expectRefusal({ message: "hi", request_id: "has spaces" }, 400, "invalid_argument", "request_id");
      await expectRefusal({ message: "hi", request_id: "r".repeat(129) }, 400, "invalid_argument", "request_id");
    });

    it("wrong types", async () => {
      await expectRefusal({ message: 42 }, 400, "invalid_argument", "message");
      await expectRefusal({ message: "hi", grounding: "yes" }, 400, "invalid_argument", "grounding");
    });

    it("attachments outside the caller's uploads, missing, too large, or not images by their bytes", async () => {
      const png = Buffer.alloc(500, 1);
      await server.services.blobs.put(`users/${bob.uid}/uploads/ok.png`, png, "image/png");
      await server.services.blobs.put(`users/${bob.uid}/uploads/big.png`, Buffer.alloc(1001, 1), "image/png");
      await server.services.blobs.put(`users/${bob.uid}/uploads/notes.txt`, Buffer.from("text"), "text/plain");
      await server.services.blobs.put(`users/${alice.uid}/uploads/alice.png`, png, "image/png");
      const attach = (path: string, mime = "image/png") => ({
        message: "look",
        attachments: [{ path, mime_type: mime }],
      });
      await expectRefusal(
        attach(`users/${alice.uid}/uploads/alice.png`),
        400,
        "invalid_argument",
        "attachments.0.path",
      );
      await expectRefusal(attach(`users/${bob.uid}/images/x.png`), 400, "invalid_argument", "attachments.0.path");
      await expectRefusal(
        attach(`users/${bob.uid}/uploads/../../x.png`),
        400,
        "invalid_argument",
        "attachments.0.path",
      );
      await expectRefusal(attach(`users/${bob.uid}/uploads/missing.png`), 404, "not_found");
      await expectRefusal(attach(`users/${bob.uid}/uploads/big.png`), 413, "payload_too_large");
      await expectRefusal(attach(`users/${bob.uid}/uploads/notes.txt`, "text/plain"), 415, "unsupported_media_type");
      await expectRefusal(attach(`users/${bob.uid}/uploads/ok.png`, "image/jpeg"), 415, "unsupported_media_type");
      // Stored as image/png (as a client uploading straight to Storage may claim), but the bytes are no image.
      await expectRefusal(attach(`users/${bob.uid}/uploads/ok.png`), 415, "unsupported_media_type");
    });
  });

  describe("history", () => {
    it("shows a chat with its turns in order and their public fields, never the internal ones", async () => {
      const session = await chat({ message: "Plan a picnic\nwith details" });
      await session.finished;
      const { chat_id, message_id } = meta(session);
      const { status, body } = await getJson(`/history/chats/${chat_id}`);
      assert.equal(status, 200);
      assert.equal((body.chat as { title: string }).title, "Plan a picnic");
      const messages = body.messages as Record<string, unknown>[];
      assert.deepEqual(
        messages.map((message) => [message.role, message.type, message.status]),
        [
          ["user", "text", "done"],
          ["assistant", "text", "done"],
        ],
      );
      const answer = messages[1] ?? {};
      assert.equal(answer.message_id, message_id);
      assert.equal(answer.content, session.text());
      assert.equal(answer.model, "gemini-3.8-flash");
      assert.equal(answer.provider, "live");
      assert.equal(answer.finish_reason, "STOP");
      assert.deepEqual(answer.usage, { input_tokens: 7, output_tokens: 6, cost_usd: 0.000028 });
      assert.equal(typeof answer.latency_ms, "number");
      assert.match(String(answer.created_at), /^\d{4}-\d\d-\d\dT/);
      for (const internal of ["seq", "stop_requested_at", "attached_at", "request_id"])
        assert.ok(!(internal in answer));
    });

    it("settles on read an answer whose generator died: history shows it aborted with its partial content", async () => {
      const first = await chat({ message: "about to lose my instance" });
      await first.finished;
      const messageId = meta(first).message_id;
      const long = new Date(Date.now() - 60_000);
      await server.services.database.update(paths.message(alice.uid, messageId), {
        status: "streaming",
        content: "half an ans",
        alive_at: long,
        updated_at: long,
      });
      const { body } = await getJson(`/history/chats/${meta(first).chat_id}`);
      const shown = (body.messages as { message_id: string; status: string; content: string }[]).find(
        (message) => message.message_id === messageId,
      );
      assert.equal(shown?.status, "aborted");
      assert.equal(shown.content, "half an ans");
      assert.equal((await storedMessage(alice, messageId))?.status, "aborted");
    });

    it("lists chats newest first with cursor paging", async () => {
      const user = await (await authEmulator()).createUser();
      const ids: string[] = [];
      for (const text of ["one", "two", "three"]) {
        const session = await chat({ message: text }, user);
        await session.finished;
        ids.push(meta(session).chat_id);
      }
      const first = await getJson("/history/chats?limit=2", user);
      assert.deepEqual(
        (first.body.chats as { chat_id: string }[]).map((item) => item.chat_id),
        [ids[2], ids[1]],
      );
      assert.equal(typeof first.body.next_cursor, "string");
      const second = await getJson(`/history/chats?limit=2&cursor=${String(first.body.next_cursor)}`, user);
      assert.deepEqual(
        (second.body.chats as { chat_id: string }[]).map((item) => item.chat_id),
        [ids[0]],
      );
      assert.equal(second.body.next_cursor, null);
      assert.equal((await getJson("/history/chats?limit=0", user)).status, 400);
      assert.equal((await getJson("/history/chats?cursor=garbage", user)).status, 400);
    });

    it("pages a chat's messages oldest first", async () => {
      const session = await chat({ message: "paging" });
      await session.finished;
      const next = await chat({ message: "more", chat_id: meta(session).chat_id });
      await next.finished;
      const page = await getJson(`/history/chats/${meta(session).chat_id}?limit=3`);
      const messages = page.body.messages as { content: string; role: string }[];
      assert.deepEqual(
        messages.map((message) => message.role),
        ["user", "assistant", "user"],
      );
      const rest = await getJson(
        `/history/chats/${meta(session).chat_id}?limit=3&cursor=${String(page.body.next_cursor)}`,
      );
      assert.deepEqual(
        (rest.body.messages as { role: string }[]).map((message) => message.role),
        ["assistant"],
      );
      assert.equal(rest.body.next_cursor, null);
    });

    it("deletes a chat with its messages and request mappings", async () => {
      const session = await chat({ message: "delete me", request_id: "to-delete-1" });
      await session.finished;
      const response = await fetch(`${server.url}/history/chats/${meta(session).chat_id}`, {
        method: "DELETE",
        headers: headers(alice),
      });
      assert.deepEqual(await response.json(), {
        ok: true,
        chat_id: meta(session).chat_id,
        status: "deleted",
        deleted: { messages: 2, media: 0 },
        pending_jobs: 0,
      });
      assert.equal((await getJson(`/history/chats/${meta(session).chat_id}`)).status, 404);
      assert.equal(await storedMessage(alice, meta(session).message_id), undefined);
      assert.equal(await server.services.database.get(paths.request(alice.uid, "to-delete-1")), null);
    });
  });
});
