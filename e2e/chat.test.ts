import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { initializeApp, deleteApp, type FirebaseApp } from "firebase/app";
import { connectAuthEmulator, getAuth, signInAnonymously } from "firebase/auth";
import { connectFunctionsEmulator, getFunctions, httpsCallable, type FunctionsError } from "firebase/functions";
import type { LocalStack } from "../scripts/lib/local-stack.ts";
import { localStack } from "./local-stack-fixture.ts";

/** Chat end to end: the smoke script and the Firebase JS SDK against the local stack's real emulators. */
describe("chat end to end (local stack)", function () {
  let stack: LocalStack;

  before(async function () {
    this.timeout(180_000);
    stack = await localStack();
  });

  function smoke(...args: string[]) {
    const script = fileURLToPath(new URL("../scripts/smoke-chat.ts", import.meta.url));
    const result = spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", script, ...args], {
      encoding: "utf8",
      timeout: 90_000,
      env: {
        PATH: process.env.PATH ?? "",
        BACKEND_URL: stack.backendUrl,
        FIREBASE_AUTH_EMULATOR_HOST: stack.authEmulatorHost,
        FIREBASE_PROJECT_ID: stack.projectId,
      },
    });
    return { code: result.status, output: `${result.stdout}${result.stderr}` };
  }

  it("scripts/smoke-chat passes and prints the meta ids", () => {
    const { code, output } = smoke();
    assert.equal(code, 0, output);
    assert.match(output, /meta: chat_id=chat-\S+ message_id=msg-\S+/);
    assert.match(output, /^PASS: chat streaming completed and persisted \(status=done\)$/m);
  });

  it("scripts/smoke-chat --grounding passes: grounding, citations and [n] markers are stored", () => {
    const { code, output } = smoke("--grounding");
    assert.equal(code, 0, output);
    assert.match(output, /^PASS: grounded answer has grounding \(\d+\), citations \(\d+\) and \[n\] markers$/m);
  });

  it("scripts/smoke-chat fails clearly with a bad token", () => {
    const script = fileURLToPath(new URL("../scripts/smoke-chat.ts", import.meta.url));
    const result = spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", script], {
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "", BACKEND_URL: stack.backendUrl, FIREBASE_ID_TOKEN: "not-a-token" },
    });
    assert.equal(result.status, 1);
    assert.match(result.stdout, /^FAIL: POST \/chat\/stream answered 401/m);
    assert.ok(!result.stdout.includes("not-a-token"), "never prints the token");
  });

  it("answers a body over MAX_REQUEST_BYTES with the 413 envelope through the Functions runtime", async () => {
    const { idToken } = await stack.auth.signUp(`big-${Date.now()}@atelier.test`, "e2e-password");
    const response = await fetch(`${stack.backendUrl}/chat/stream`, {
      method: "POST",
      headers: { Authorization: `Bearer ${idToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({ message: "x".repeat(17 * 1024 * 1024) }),
    });
    assert.equal(response.status, 413);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, "payload_too_large");
  });

  describe("the streaming callable with the Firebase JS SDK", () => {
    let app: FirebaseApp;

    before(async () => {
      app = initializeApp({ projectId: stack.projectId, apiKey: "emulator-api-key" }, `e2e-${Date.now()}`);
      const auth = getAuth(app);
      connectAuthEmulator(auth, `http://${stack.authEmulatorHost}`, { disableWarnings: true });
      await signInAnonymously(auth);
      const url = new URL(stack.backendUrl);
      connectFunctionsEmulator(getFunctions(app), url.hostname, Number(url.port));
    });
    after(async () => {
      await deleteApp(app);
    });

    it("streams meta, tokens and done, persists the answer and replays it for the same request_id", async () => {
      const chat = httpsCallable<
        Record<string, unknown>,
        Record<string, unknown>,
        { event: string; data: Record<string, unknown>; id: number }
      >(getFunctions(app), "chat");
      const requestId = `callable-${Date.now()}`;
      const { stream, data } = await chat.stream({ message: "hello from the SDK", request_id: requestId });
      const chunks = [];
      for await (const chunk of stream) chunks.push(chunk);
      const result = await data;
      assert.equal(chunks[0]?.event, "meta");
      assert.equal(chunks.at(-1)?.event, "done");
      const text = chunks
        .filter((chunk) => chunk.event === "token")
        .map((chunk) => String(chunk.data.text))
        .join("");
      assert.ok(text.length > 0);
      assert.equal(result.content, text);
      assert.equal(result.status, "done");
      let offset = 0;
      for (const chunk of chunks.filter((item) => item.event === "token")) {
        offset += String(chunk.data.text).length;
        assert.equal(chunk.id, offset);
      }

      const token = await getAuth(app).currentUser?.getIdToken();
      const history = await fetch(`${stack.backendUrl}/history/chats/${String(result.chat_id)}`, {
        headers: { Authorization: `Bearer ${String(token)}` },
      });
      const messages = ((await history.json()) as { messages: { content: string; status: string }[] }).messages;
      assert.deepEqual(
        messages.map((message) => message.status),
        ["done", "done"],
      );
      assert.equal(messages[1]?.content, text);

      const replay = await chat.stream({ message: "hello from the SDK", request_id: requestId });
      const replayed = [];
      for await (const chunk of replay.stream) replayed.push(chunk);
      assert.equal(replayed[0]?.data.resumed, true);
      assert.equal((await replay.data).content, text);
    });

    it("calls tools mid-answer, and hands a call that needs approval back as the result's question", async () => {
      const chat = httpsCallable<
        Record<string, unknown>,
        Record<string, unknown>,
        { event: string; data: Record<string, unknown>; id: number }
      >(getFunctions(app), "chat");
      const drawing = await chat.stream({ message: "draw a lighthouse" });
      const chunks = [];
      for await (const chunk of drawing.stream) chunks.push(chunk);
      assert.deepEqual(
        chunks.map((chunk) => chunk.event).filter((event) => event !== "token"),
        ["meta", "tool_call", "tool_result", "done"],
      );
      assert.equal((await drawing.data).status, "done");

      const video = await chat({ message: "make a video of a lighthouse" });
      const question = video.data.approval_required as { call_id: string; name: string };
      assert.equal(video.data.status, "awaiting_approval");
      assert.equal(question.name, "generate_video");
      const token = await getAuth(app).currentUser?.getIdToken();
      const approved = await fetch(`${stack.backendUrl}/chat/approve`, {
        method: "POST",
        headers: { Authorization: `Bearer ${String(token)}`, "Content-Type": "application/json" },
        body: JSON.stringify({ message_id: video.data.message_id, call_id: question.call_id, approved: true }),
      });
      assert.equal(approved.status, 200);
      const events = await approved.text();
      assert.match(events, /event: tool_result\n.*"ok":true/);
      assert.match(events, /event: done\n/);
    });

    it("reports bad input as an HttpsError carrying the contract's code", async () => {
      const chat = httpsCallable(getFunctions(app), "chat");
      await assert.rejects(chat({ message: "" }), (error: FunctionsError) => {
        assert.equal(error.code, "functions/invalid-argument");
        assert.equal((error.details as { code: string }).code, "invalid_argument");
        return true;
      });
    });

    it("ends a blocked answer with an HttpsError from both the stream and the result", async () => {
      const chat = httpsCallable<Record<string, unknown>, unknown, { event: string; data: Record<string, unknown> }>(
        getFunctions(app),
        "chat",
      );
      const { stream, data } = await chat.stream({ message: "simulate:blocked please" });
      const chunks = [];
      let streamError: unknown;
      try {
        for await (const chunk of stream) chunks.push(chunk);
      } catch (error) {
        streamError = error;
      }
      const isBlocked = (error: unknown) =>
        (error as FunctionsError).code === "functions/failed-precondition" &&
        ((error as FunctionsError).details as { code: string }).code === "blocked";
      await assert.rejects(data, isBlocked);
      assert.ok(isBlocked(streamError), "the stream iterator throws the same error");
      assert.equal(chunks[0]?.event, "meta", "the answer's ids arrived first");
    });
  });
});
