import assert from "node:assert/strict";
import { ProviderWireServer } from "../../test-support/provider-wire-server.ts";
import { providerFailure } from "../../test-support/provider-failures.ts";
import { wireFixtures } from "../../test-support/wire-fixtures.ts";
import { NanoBananaImageProvider } from "./nano-banana-image-provider.ts";
import { VeoVideoProvider } from "./veo-video-provider.ts";

const KEY = "AIzaSy-media-test-key";
const PNG = Buffer.from("89504e470d0a1a0a0000000d4948445200000002000000020806000000", "hex");
/** The API's answers, replayed from `__fixtures__/<name>.chunks.txt`. */
const reply = wireFixtures(import.meta.dirname);

describe("NanoBananaImageProvider (real @google/genai SDK against a local :generateContent server)", function () {
  this.timeout(20_000);
  let server: ProviderWireServer;
  let provider: NanoBananaImageProvider;

  before(async () => {
    server = await ProviderWireServer.start();
    provider = new NanoBananaImageProvider({ apiKey: KEY, baseUrl: server.url });
  });
  after(async () => {
    await server.close();
  });
  beforeEach(() => server.reset());

  const imageAnswer = () => reply("nano-banana-image", { vars: { image: PNG.toString("base64") } });

  it("asks for IMAGE output with the aspect ratio and returns the inline image bytes", async () => {
    server.setDefault("generateContent", imageAnswer());
    const images = await provider.generate({
      model: "gemini-nano-banana-2.1",
      prompt: "a fox",
      count: 1,
      aspectRatio: "16:9",
    });
    assert.deepEqual(images, [{ mimeType: "image/png", data: PNG }]);
    const [request] = server.requests;
    assert.equal(request?.path, "/v1beta/models/gemini-nano-banana-2.1:generateContent");
    assert.equal(request.headers["x-goog-api-key"], KEY);
    const body = request.body as { generationConfig: Record<string, unknown>; contents: { parts: unknown[] }[] };
    assert.deepEqual(body.generationConfig, {
      responseModalities: ["TEXT", "IMAGE"],
      imageConfig: { aspectRatio: "16:9" },
    });
    assert.deepEqual(body.contents[0]?.parts, [{ text: "a fox" }]);
  });

  it("makes one call per requested image", async () => {
    server.setDefault("generateContent", imageAnswer());
    const images = await provider.generate({ model: "m", prompt: "three cats", count: 3 });
    assert.equal(images.length, 3);
    assert.equal(server.count("generateContent"), 3);
  });

  it("sends an edit as the image and the mask with an instruction, since the model has no mask parameter", async () => {
    server.setDefault("generateContent", imageAnswer());
    const mask = Buffer.from("mask-bytes");
    await provider.generate({
      model: "m",
      prompt: "make the sky purple",
      count: 1,
      edit: { image: { mimeType: "image/png", data: PNG }, mask: { mimeType: "image/png", data: mask } },
    });
    const parts = (server.requests[0]?.body as { contents: { parts: Record<string, { data?: string }>[] }[] })
      .contents[0]?.parts;
    assert.match(
      String((parts?.[0] as { text?: string } | undefined)?.text),
      /white in the mask.*make the sky purple/s,
    );
    assert.equal(parts?.[1]?.inlineData?.data, PNG.toString("base64"));
    assert.equal(parts[2]?.inlineData?.data, mask.toString("base64"));
  });

  it("reports a blocked prompt, a withheld image and an answer without an image as blocked", async () => {
    server.next("generateContent", reply("nano-banana-prompt-blocked"));
    assert.equal(
      (await providerFailure(provider.generate({ model: "m", prompt: "x", count: 1 }), KEY)).failure,
      "blocked",
    );
    server.next("generateContent", reply("nano-banana-image-withheld"));
    const withheld = await providerFailure(provider.generate({ model: "m", prompt: "x", count: 1 }), KEY);
    assert.equal(withheld.reason, "IMAGE_SAFETY");
    server.next("generateContent", reply("nano-banana-text-only"));
    assert.equal(
      (await providerFailure(provider.generate({ model: "m", prompt: "x", count: 1 }), KEY)).failure,
      "blocked",
    );
  });

  it("classifies 429 and 503 as retryable, 400 as final", async () => {
    server.next("generateContent", reply("google-429-quota", { vars: { retryDelay: "7s" } }));
    const limited = await providerFailure(provider.generate({ model: "m", prompt: "x", count: 1 }), KEY);
    assert.equal(limited.failure, "rate_limited");
    assert.equal(limited.retryable, true);
    assert.equal(limited.retryAfterSeconds, 7);
    server.next("generateContent", reply("google-503-unavailable"));
    assert.equal(
      (await providerFailure(provider.generate({ model: "m", prompt: "x", count: 1 }), KEY)).retryable,
      true,
    );
    server.next("generateContent", reply("google-400-invalid-argument"));
    assert.equal(
      (await providerFailure(provider.generate({ model: "m", prompt: "x", count: 1 }), KEY)).retryable,
      false,
    );
  });
});

describe("VeoVideoProvider (real @google/genai SDK against local :predictLongRunning, operations and files servers)", function () {
  this.timeout(20_000);
  let server: ProviderWireServer;
  let provider: VeoVideoProvider;
  const video = Buffer.from("fake-mp4-bytes-\u0000\u0001\u0002", "binary");

  before(async () => {
    server = await ProviderWireServer.start();
    provider = new VeoVideoProvider({ apiKey: KEY, baseUrl: server.url, requestTimeoutMs: 1_000 });
  });
  after(async () => {
    await server.close();
  });
  beforeEach(() => server.reset());

  const operationName = "models/veo-3.1-generate-preview/operations/op123";

  it("starts a long-running operation with the prompt, first frame and parameters", async () => {
    server.next("predictLongRunning", reply("veo-operation-pending", { vars: { name: operationName } }));
    const name = await provider.start({
      model: "veo-3.1-generate-preview",
      prompt: "a cat surfing",
      aspectRatio: "16:9",
      durationSeconds: 8,
      image: { mimeType: "image/png", data: PNG },
    });
    assert.deepEqual(name, { operation: operationName });
    const request = server.requests[0];
    assert.equal(request?.path, "/v1beta/models/veo-3.1-generate-preview:predictLongRunning");
    const body = request.body as { instances: Record<string, unknown>[]; parameters: Record<string, unknown> };
    assert.equal(body.instances[0]?.prompt, "a cat surfing");
    assert.deepEqual(body.instances[0].image, { bytesBase64Encoded: PNG.toString("base64"), mimeType: "image/png" });
    assert.deepEqual(body.parameters, { sampleCount: 1, durationSeconds: 8, aspectRatio: "16:9" });
  });

  it("polls a pending operation from its saved name, then downloads the finished video", async () => {
    server
      .next("operation", reply("veo-operation-pending", { vars: { name: operationName } }))
      .next("operation", reply("veo-operation-done", { vars: { name: operationName } }))
      .next("download", (_, response) => {
        response.writeHead(200, { "Content-Type": "video/mp4" });
        response.end(video);
      });
    assert.deepEqual(await provider.poll(operationName), { done: false });
    const finished = await provider.poll(operationName);
    assert.ok(finished.done);
    assert.deepEqual(finished.video.data, video);
    assert.equal(server.requests[0]?.path, `/v1beta/${operationName}`);
    const download = server.requests.find((request) => request.kind === "download");
    assert.match(download?.path ?? "", /^\/v1beta\/files\/abc123xyz:download\?alt=media/);
    assert.equal(download?.headers["x-goog-api-key"], KEY);
  });

  it("reports op.error as a clean failure rather than a throw from the SDK", async () => {
    server.next("operation", reply("veo-operation-failed-invalid", { vars: { name: operationName } }));
    const error = await providerFailure(provider.poll(operationName), KEY);
    assert.equal(error.failure, "rejected");
    assert.equal(error.toAppError().code, "unavailable");
  });

  it("reports filtered output as blocked, with the reasons", async () => {
    server.next("operation", reply("veo-operation-filtered", { vars: { name: operationName } }));
    const error = await providerFailure(provider.poll(operationName), KEY);
    assert.equal(error.failure, "blocked");
    assert.equal(error.reason, "Unsafe content.");
  });

  it("classifies a 503 on start as retryable", async () => {
    server.next("predictLongRunning", reply("google-503-unavailable"));
    const error = await providerFailure(provider.start({ model: "veo-3.1-generate-preview", prompt: "x" }), KEY);
    assert.equal(error.retryable, true);
  });

  it("classifies a quota error on start as rate limited, a failure worth trying another model for", async () => {
    server.next("predictLongRunning", reply("google-429-quota", { vars: { retryDelay: "30s" } }));
    const error = await providerFailure(provider.start({ model: "veo-3.1-generate-preview", prompt: "x" }), KEY);
    assert.equal(error.failure, "rate_limited");
    assert.equal(error.retryAfterSeconds, 30);
    assert.ok(error.fallbackWorthy);
  });

  it("gives up on a poll that gets no answer within the timeout, as a retryable failure", async () => {
    server.next("operation", reply("veo-operation-pending", { vars: { name: operationName }, latencyMs: 2_000 }));
    const error = await providerFailure(provider.poll(operationName), KEY);
    assert.equal(error.failure, "unavailable");
    assert.ok(error.retryable);
  });

  it("reports a failed operation as final: polling it again cannot change it", async () => {
    server.next("operation", reply("veo-operation-failed-internal", { vars: { name: operationName } }));
    const error = await providerFailure(provider.poll(operationName), KEY);
    assert.equal(error.retryable, false);
  });
});
