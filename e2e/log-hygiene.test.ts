import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { initializeApp, deleteApp, type FirebaseApp } from "firebase/app";
import { connectAuthEmulator, getAuth, signInAnonymously } from "firebase/auth";
import { connectFunctionsEmulator, getFunctions, httpsCallable } from "firebase/functions";
import type { LocalStack } from "../scripts/lib/local-stack.ts";
import { localStack } from "./local-stack-fixture.ts";

/**
 * The streaming callable `chat` as it really runs: in the Functions emulator, called with the Firebase JS SDK,
 * through the callable runtime's own request handling. Everything the emulators print (our JSON lines,
 * firebase-functions' own logs, the emulator's request logs) must hold neither the caller's ID token nor the
 * prompt text, whether the call succeeds, is refused or fails. (The provider keys are covered in-process by
 * `functions/src/logging/log-hygiene.test.ts`: the callable shares the chat service and logger with the route.)
 */
describe("log hygiene of the chat callable (local stack)", function () {
  this.timeout(60_000);
  const PROMPT = `CALLABLE-PROMPT-MARKER-${randomUUID().slice(0, 8)}`;
  const FORGED_TOKEN = `forged-callable-token-MARKER-${randomUUID().slice(0, 8)}`;
  let stack: LocalStack;
  let app: FirebaseApp;
  let idToken: string;

  before(async function () {
    this.timeout(180_000);
    stack = await localStack();
    app = initializeApp({ projectId: stack.projectId, apiKey: "emulator-api-key" }, `hygiene-${Date.now()}`);
    const auth = getAuth(app);
    connectAuthEmulator(auth, `http://${stack.authEmulatorHost}`, { disableWarnings: true });
    const credential = await signInAnonymously(auth);
    idToken = await credential.user.getIdToken();
    const url = new URL(stack.backendUrl);
    connectFunctionsEmulator(getFunctions(app), url.hostname, Number(url.port));
  });
  after(async () => {
    await deleteApp(app);
  });

  it("prints no ID token and no prompt text, for answers, refusals and failures", async () => {
    const chat = httpsCallable<Record<string, unknown>, Record<string, unknown>, { event: string }>(
      getFunctions(app),
      "chat",
    );

    // An answer, streamed; a replay of it; a blocked answer; a refused model; an empty message.
    const requestId = `hygiene-${randomUUID()}`;
    const answered = await chat.stream({ message: `${PROMPT} tell me a story`, request_id: requestId });
    for await (const chunk of answered.stream) assert.ok(chunk.event);
    assert.equal((await answered.data).status, "done");
    assert.equal((await chat({ message: `${PROMPT} tell me a story`, request_id: requestId })).data.status, "done");
    await assert.rejects(chat({ message: `simulate:blocked ${PROMPT}` }));
    await assert.rejects(chat({ message: PROMPT, model: `no-such-model-${PROMPT}` }));
    await assert.rejects(chat({ message: "" }));

    // A forged token, sent as the SDK would send it (the emulator's callable runtime only decodes tokens; our own
    // verifier refuses it, as the deployed runtime would).
    const callableUrl = stack.backendUrl.replace(/\/api$/, "/chat");
    const forged = await fetch(callableUrl, {
      method: "POST",
      headers: { Authorization: `Bearer ${FORGED_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ data: { message: PROMPT } }),
    });
    assert.equal(forged.status, 401);
    await forged.arrayBuffer();

    // The emulator prints function output as it arrives: read it once it has been quiet for a second.
    let output = stack.emulators.output();
    for (let waited = 0; waited < 15_000; waited += 1_000) {
      await sleep(1_000);
      const latest = stack.emulators.output();
      if (latest === output) break;
      output = latest;
    }
    assert.ok(
      output.includes(`"request_id":"${requestId}"`),
      "this test's own log lines are in the captured output (its start_stream line names its request_id)",
    );
    for (const [name, value] of Object.entries({ idToken, forged_token: FORGED_TOKEN, prompt: PROMPT })) {
      assert.ok(!output.includes(value), `the emulator output contains the ${name}`);
    }
  });
});
