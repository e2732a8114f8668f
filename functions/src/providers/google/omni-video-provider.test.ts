import assert from "node:assert/strict";
import { jsonResponse, ProviderWireServer } from "../../test-support/provider-wire-server.ts";
import { providerFailure } from "../../test-support/provider-failures.ts";
import { wireFixtures } from "../../test-support/wire-fixtures.ts";
import { OmniVideoProvider } from "./omni-video-provider.ts";

const KEY = "AIzaSy-omni-test-key";
const CLIP = Buffer.from("00000018667479706d703432", "hex");
/** The Interactions API's answers, replayed from `__fixtures__/<name>.chunks.txt`. */
const reply = wireFixtures(import.meta.dirname);

describe("OmniVideoProvider (real @google/genai Interactions client against a local Interactions server)", function () {
  this.timeout(20_000);
  let server: ProviderWireServer;
  let provider: OmniVideoProvider;

  before(async () => {
    server = await ProviderWireServer.start();
    provider = new OmniVideoProvider({ apiKey: KEY, baseUrl: server.url, requestTimeoutMs: 1_000 });
  });
  after(async () => {
    await server.close();
  });
  beforeEach(() => server.reset());

  it("creates a stored background interaction with the prompt, first frame and video format", async () => {
    server.next("createInteraction", reply("omni-interaction-in-progress", { vars: { id: "v1_abc" } }));
    const png = Buffer.from("89504e47", "hex");
    const started = await provider.start({
      model: "gemini-omni-1.1-flash",
      prompt: "a paper boat on a stream",
      aspectRatio: "9:16",
      durationSeconds: 6,
      image: { mimeType: "image/png", data: png },
    });
    assert.deepEqual(started, { operation: "v1_abc", interactionId: "v1_abc" });
    const [request] = server.requests;
    assert.equal(request?.method, "POST");
    assert.equal(request.path, "/v1beta/interactions");
    assert.equal(request.headers["x-goog-api-key"], KEY);
    assert.deepEqual(request.body, {
      model: "gemini-omni-1.1-flash",
      input: [
        { type: "text", text: "a paper boat on a stream" },
        { type: "image", data: png.toString("base64"), mime_type: "image/png" },
      ],
      response_format: { type: "video", aspect_ratio: "9:16", duration: "6s" },
      background: true,
      store: true,
    });
  });

  it("continues an earlier interaction for an edit", async () => {
    server.next("createInteraction", reply("omni-interaction-queued", { vars: { id: "v1_next" } }));
    await provider.start({ model: "gemini-omni-1.1-flash", prompt: "now at night", continueFrom: "v1_abc" });
    const body = server.requests[0]?.body as Record<string, unknown>;
    assert.equal(body.previous_interaction_id, "v1_abc");
    assert.equal(body.input, "now at night");
  });

  it("polls until completed, then returns the inline clip", async () => {
    server
      .next("getInteraction", reply("omni-interaction-queued", { vars: { id: "v1_abc" } }))
      .next("getInteraction", reply("omni-interaction-in-progress", { vars: { id: "v1_abc" } }))
      .next(
        "getInteraction",
        reply("omni-interaction-completed-inline", { vars: { id: "v1_abc", clip: CLIP.toString("base64") } }),
      );
    assert.deepEqual(await provider.poll("v1_abc"), { done: false });
    assert.deepEqual(await provider.poll("v1_abc"), { done: false });
    assert.deepEqual(await provider.poll("v1_abc"), { done: true, video: { mimeType: "video/mp4", data: CLIP } });
    assert.equal(server.requests[0]?.path, "/v1beta/interactions/v1_abc?stream=false");
  });

  it("downloads a clip delivered by URI, sending the key only to the API's own host", async () => {
    server.setDefault("download", (_, response) => {
      response.writeHead(200, { "Content-Type": "video/mp4" });
      response.end(CLIP);
    });
    const uri = `${server.url}/v1beta/files/clip1:download?alt=media`;
    server.next("getInteraction", reply("omni-interaction-completed-uri", { vars: { id: "v1_abc", uri } }));
    assert.deepEqual(await provider.poll("v1_abc"), { done: true, video: { mimeType: "video/mp4", data: CLIP } });
    assert.equal(server.requests.find((request) => request.kind === "download")?.headers["x-goog-api-key"], KEY);

    const other = await ProviderWireServer.start();
    try {
      other.setDefault("getInteraction", reply("omni-interaction-completed-uri", { vars: { id: "v1_x", uri } }));
      // The API answers from `other`, but names a clip on `server`: that host gets no key.
      const redirected = new OmniVideoProvider({ apiKey: KEY, baseUrl: other.url, requestTimeoutMs: 1_000 });
      server.reset();
      await redirected.poll("v1_x");
      assert.equal(
        server.requests.find((request) => request.kind === "download")?.headers["x-goog-api-key"],
        undefined,
      );
    } finally {
      await other.close();
    }
  });

  it("never forwards the key when the API's download redirects to another host", async () => {
    const storage = await ProviderWireServer.start();
    try {
      storage.setDefault("download", (_, response) => {
        response.writeHead(200, { "Content-Type": "video/mp4" });
        response.end(CLIP);
      });
      server.setDefault(
        "download",
        reply("google-download-redirect", {
          vars: { location: `${storage.url}/v1beta/files/clip2:download?alt=media` },
        }),
      );
      const uri = `${server.url}/v1beta/files/clip1:download?alt=media`;
      server.next("getInteraction", reply("omni-interaction-completed-uri", { vars: { id: "v1_abc", uri } }));
      assert.deepEqual(await provider.poll("v1_abc"), { done: true, video: { mimeType: "video/mp4", data: CLIP } });
      assert.equal(server.requests.find((request) => request.kind === "download")?.headers["x-goog-api-key"], KEY);
      const redirected = storage.requests.find((request) => request.kind === "download");
      assert.ok(redirected !== undefined, "the redirect was followed");
      assert.equal(redirected.headers["x-goog-api-key"], undefined, "the other host gets no key");
    } finally {
      server.setDefault("download", (_, response) => jsonResponse(response, 404, {}));
      await storage.close();
    }
  });

  it("judges an interaction refused at creation like a failed call: a quota error may go to the next model", async () => {
    server.next("createInteraction", reply("omni-interaction-failed-quota", { vars: { id: "v1_busy" } }));
    const refused = await providerFailure(provider.start({ model: "gemini-omni-1.1-flash", prompt: "x" }), KEY);
    assert.equal(refused.failure, "rate_limited");
    assert.ok(refused.retryable);
    assert.ok(refused.fallbackWorthy);
  });

  it("ends a failed interaction as a final failure: blocked for a safety code, else unavailable", async () => {
    server.next("getInteraction", reply("omni-interaction-failed-safety", { vars: { id: "v1_abc" } }));
    const blocked = await providerFailure(provider.poll("v1_abc"), KEY);
    assert.equal(blocked.failure, "blocked");
    assert.equal(blocked.reason, "SAFETY");
    assert.equal(blocked.retryable, false);

    server.next("getInteraction", reply("omni-interaction-failed-internal", { vars: { id: "v1_abc" } }));
    const failed = await providerFailure(provider.poll("v1_abc"), KEY);
    assert.equal(failed.failure, "unavailable");
    assert.equal(failed.retryable, false, "a failed interaction stays failed, however often it is polled");
  });

  it("surfaces a quota error once (the SDK's own retries are off), as a failure worth a fallback", async () => {
    server.setDefault("createInteraction", reply("google-429-quota", { vars: { retryDelay: "20s" } }));
    const limited = await providerFailure(provider.start({ model: "gemini-omni-1.1-flash", prompt: "x" }), KEY);
    assert.equal(limited.failure, "rate_limited");
    assert.equal(limited.retryAfterSeconds, 20);
    assert.ok(limited.fallbackWorthy);
    assert.equal(server.count("createInteraction"), 1);
  });

  it("gives up on a request that gets no answer within the timeout", async () => {
    server.next("getInteraction", reply("omni-interaction-in-progress", { vars: { id: "v1_abc" }, latencyMs: 2_000 }));
    const timedOut = await providerFailure(provider.poll("v1_abc"), KEY);
    assert.equal(timedOut.failure, "unavailable");
    assert.ok(timedOut.retryable);
  });
});
