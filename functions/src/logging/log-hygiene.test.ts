import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { solidPng } from "../test-support/test-images.ts";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace";
import { startApiServer, type ApiServer } from "../test-support/api-server.ts";
import { authEmulator, type TestUser } from "../test-support/auth-emulator.ts";
import { claimsFor, forgedRs256Token } from "../test-support/crafted-tokens.ts";
import {
  googleError,
  jsonResponse,
  lastUserText,
  ProviderWireServer,
  streamChunks,
  textChunks,
} from "../test-support/provider-wire-server.ts";
import { openSse } from "../test-support/sse-client.ts";

/**
 * Every route, error and stream type, driven with recognisable fake secrets, tokens and prompt text, while the
 * providers do their worst (echo the key and the prompt back in error bodies). Then: not one log line may
 * contain any of them.
 */
describe("log hygiene", function () {
  this.timeout(60_000);
  const secrets = {
    GEMINI_API_KEY: "AIzaSECRET-gemini-7f3a9c",
    NANO_BANANA_API_KEY: "AIzaSECRET-banana-2b8e41",
    VEO_API_KEY: "AIzaSECRET-veo-91cd07",
    TAVILY_API_KEY: "tvly-SECRET-tavily-5e6f12",
    FIREBASE_PRIVATE_KEY: "-----BEGIN PRIVATE KEY-----\\nSECRETprivatekeybody88\\n-----END PRIVATE KEY-----\\n",
  };
  const PROMPT = "PROMPT-MARKER-qz7v my private question";
  let providers: ProviderWireServer;
  let server: ApiServer;
  const spans = new InMemorySpanExporter();
  let user: TestUser;
  let admin: TestUser;

  before(async () => {
    providers = await ProviderWireServer.start();
    const echoingError =
      (status: number, name: string) => (request: { body: unknown }, response: Parameters<typeof jsonResponse>[0]) =>
        jsonResponse(
          response,
          status,
          googleError(status, name, `bad request for key ${secrets.GEMINI_API_KEY}: ${lastUserText(request.body)}`),
        );
    providers
      .setDefault("streamGenerateContent", async (request, response) => {
        const text = lastUserText(request.body);
        if (text.includes("fail")) return echoingError(400, "INVALID_ARGUMENT")(request, response);
        await streamChunks(response, textChunks([`Answer to ${text} `, "[1] done."]));
      })
      .setDefault("search", (request, response) =>
        (request.body as { query: string }).query.includes("fail")
          ? jsonResponse(response, 500, {
              detail: {
                error: `search broke for ${secrets.TAVILY_API_KEY}: ${(request.body as { query: string }).query}`,
              },
            })
          : jsonResponse(response, 200, {
              query: "q",
              answer: null,
              images: [],
              results: [{ title: "T", url: "https://e.com", content: "c", score: 0.5 }],
              response_time: 0.1,
              request_id: "r",
            }),
      )
      .setDefault("generateContent", (request, response) =>
        jsonResponse(
          response,
          429,
          googleError(
            429,
            "RESOURCE_EXHAUSTED",
            `quota for ${secrets.NANO_BANANA_API_KEY}: ${lastUserText(request.body)}`,
          ),
        ),
      )
      .setDefault("predictLongRunning", (request, response) =>
        jsonResponse(
          response,
          400,
          googleError(400, "INVALID_ARGUMENT", `refused ${secrets.VEO_API_KEY}: ${JSON.stringify(request.body)}`),
        ),
      );
    server = await startApiServer(
      {
        ...secrets,
        GEMINI_ENDPOINT: providers.url,
        NANO_BANANA_ENDPOINT: providers.url,
        VEO_ENDPOINT: providers.url,
        TAVILY_ENDPOINT: providers.url,
        JOB_MAX_ATTEMPTS: "1",
        RATE_LIMIT_FREE: "0",
        MAX_REQUEST_BYTES: "100000",
        LOG_LEVEL: "debug",
      },
      // What a trace collector would receive: every span, with its name, attributes and events.
      { spanExporter: spans },
    );
    const emulator = await authEmulator();
    user = await emulator.createUser();
    admin = await emulator.withClaims(await emulator.createUser(), { admin: true });
  });
  after(async () => {
    await server.close();
    await providers.close();
  });

  it("never writes a secret, an ID token or prompt text to the log", async () => {
    const headers = (who: TestUser | string = user) => ({
      Authorization: `Bearer ${typeof who === "string" ? who : who.idToken}`,
      "Content-Type": "application/json",
    });
    const send = (method: string, path: string, body?: unknown, who: TestUser | string = user) =>
      fetch(path.startsWith("http") ? path : `${server.url}${path}`, {
        method,
        headers: headers(who),
        ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
      });
    const call = async (method: string, path: string, body?: unknown, who: TestUser | string = user) => {
      const response = await send(method, path, body, who);
      await response.arrayBuffer();
      return response.status;
    };
    const callJson = async <T>(method: string, path: string, body?: unknown) => {
      const response = await send(method, path, body);
      assert.equal(response.status, 200, path);
      return (await response.json()) as T;
    };
    const stream = async (body: unknown) => {
      const session = await openSse(`${server.url}/chat/stream`, {
        method: "POST",
        headers: headers(),
        body: JSON.stringify(body),
      });
      await session.finished;
      return session;
    };

    // Health and account.
    for (const path of ["/health", "/healthz", "/readyz", "/account"]) assert.ok((await call("GET", path)) < 300);
    // Streams: plain, grounded, provider failure echoing key and prompt, search failure echoing key and query.
    const plain = await stream({ message: PROMPT, request_id: "hygiene-1" });
    assert.equal(plain.events.at(-1)?.event, "done");
    assert.equal((await stream({ message: PROMPT, grounding: true })).events.at(-1)?.event, "done");
    assert.equal((await stream({ message: `${PROMPT} fail` })).events.at(-1)?.event, "error");
    assert.equal((await stream({ message: `${PROMPT} fail`, grounding: true })).events.at(-1)?.event, "error");
    // Replay, resume, stop, history.
    await stream({ message: PROMPT, request_id: "hygiene-1" });
    const { message_id: messageId, chat_id: chatId } = plain.events[0]?.json<{
      message_id: string;
      chat_id: string;
    }>() ?? {
      message_id: "",
      chat_id: "",
    };
    const resumed = await openSse(`${server.url}/chat/stream/${messageId}?after=3`, { headers: headers() });
    await resumed.finished;
    assert.equal(await call("POST", "/chat/stop", { message_id: messageId }), 200);
    assert.equal(await call("GET", "/history/chats"), 200);
    assert.equal(await call("GET", `/history/chats/${chatId}`), 200);
    // Jobs whose providers fail with the key and prompt in their error bodies.
    const png = (await solidPng(8, 8, { r: 1, g: 2, b: 3 })).toString("base64");
    const image = await callJson<{ job_id: string }>("POST", "/image/generate", { prompt: PROMPT });
    assert.equal(
      await call("POST", "/image/edit", { prompt: PROMPT, image: { data: png, mime_type: "image/png" } }),
      200,
    );
    const video = await callJson<{ job_id: string }>("POST", "/video/generate", { prompt: PROMPT });
    const upload = await callJson<{ url: string }>("POST", "/uploads", { data: png, mime_type: "image/png" });
    // Job status, media (the URL is the credential) and deletion.
    assert.equal(await call("GET", `/jobs/${image.job_id}`), 200);
    assert.equal(await call("GET", `/video/status/${video.job_id}`), 200);
    assert.equal(await call("GET", upload.url), 200);
    assert.equal(await call("GET", upload.url.replace(/signature=[^&]+/, "signature=tampered")), 403);
    assert.equal(await call("DELETE", `/history/chats/${chatId}`), 200);
    // Refusals of every kind.
    assert.equal(await call("POST", "/chat/stream", '{"message":', user), 400);
    assert.equal(await call("POST", "/chat/stream", { message: "x".repeat(200_000) }), 413);
    assert.equal(
      await call("POST", "/image/edit", { prompt: PROMPT, image: { data: "zz", mime_type: "image/gif" } }),
      415,
    );
    const forged = forgedRs256Token(claimsFor(user.uid, { marker: "FORGED-TOKEN-MARKER" }));
    assert.equal(await call("GET", "/account", undefined, forged), 401);
    assert.equal(await call("GET", "/account", undefined, "garbage-token-MARKER-k2"), 401);
    assert.equal(await call("POST", "/admin/cleanup", {}, user), 403);
    assert.equal(await call("POST", "/admin/cleanup", {}, admin), 200);
    assert.equal(await call("GET", "/no/such/route"), 404);
    await sleep(500);

    const log = server.logLines.join("\n");
    assert.ok(server.logLines.length > 30, "the run produced plenty of logs to check");
    assert.ok(log.includes("start_stream") && log.includes("job failed"), "stream and job logs were written");
    const forbidden = {
      ...secrets,
      private_key_body: "SECRETprivatekeybody88",
      user_token: user.idToken,
      admin_token: admin.idToken,
      forged_token: forged,
      garbage_token: "garbage-token-MARKER-k2",
      prompt: "PROMPT-MARKER-qz7v",
    };
    for (const [name, value] of Object.entries(forbidden)) {
      assert.ok(!log.includes(value), `the log contains ${name}`);
    }
    const exported = JSON.stringify(
      spans.getFinishedSpans().map((span) => ({ name: span.name, attributes: span.attributes, events: span.events })),
    );
    assert.ok(spans.getFinishedSpans().length > 30, "the run produced plenty of spans to check");
    for (const [name, value] of Object.entries(forbidden)) {
      assert.ok(!exported.includes(JSON.stringify(value).slice(1, -1)), `a span contains ${name}`);
    }
  });
});
