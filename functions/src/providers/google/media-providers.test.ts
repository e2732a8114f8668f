import assert from "node:assert/strict";
import { googleError, jsonResponse, ProviderWireServer } from "../../test-support/provider-wire-server.ts";
import { providerFailure } from "../../test-support/provider-failures.ts";
import { NanoBananaImageProvider } from "./nano-banana-image-provider.ts";
import { VeoVideoProvider } from "./veo-video-provider.ts";

const KEY = "AIzaSy-media-test-key";
const PNG = Buffer.from("89504e470d0a1a0a0000000d4948445200000002000000020806000000", "hex");

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

  const imageAnswer = (data = PNG) => ({
    candidates: [
      {
        content: {
          role: "model",
          parts: [{ text: "Here you go" }, { inlineData: { mimeType: "image/png", data: data.toString("base64") } }],
        },
        finishReason: "STOP",
        index: 0,
      },
    ],
    usageMetadata: { promptTokenCount: 5 },
    modelVersion: "gemini-nano-banana-2.1",
    responseId: "img-1",
  });

  it("asks for IMAGE output with the aspect ratio and returns the inline image bytes", async () => {
    server.setDefault("generateContent", (_, response) => jsonResponse(response, 200, imageAnswer()));
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
    server.setDefault("generateContent", (_, response) => jsonResponse(response, 200, imageAnswer()));
    const images = await provider.generate({ model: "m", prompt: "three cats", count: 3 });
    assert.equal(images.length, 3);
    assert.equal(server.count("generateContent"), 3);
  });

  it("sends an edit as the image and the mask with an instruction, since the model has no mask parameter", async () => {
    server.setDefault("generateContent", (_, response) => jsonResponse(response, 200, imageAnswer()));
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
    server.next("generateContent", (_, response) =>
      jsonResponse(response, 200, { promptFeedback: { blockReason: "PROHIBITED_CONTENT" } }),
    );
    assert.equal(
      (await providerFailure(provider.generate({ model: "m", prompt: "x", count: 1 }), KEY)).failure,
      "blocked",
    );
    server.next("generateContent", (_, response) =>
      jsonResponse(response, 200, { candidates: [{ content: { parts: [] }, finishReason: "IMAGE_SAFETY" }] }),
    );
    const withheld = await providerFailure(provider.generate({ model: "m", prompt: "x", count: 1 }), KEY);
    assert.equal(withheld.reason, "IMAGE_SAFETY");
    server.next("generateContent", (_, response) =>
      jsonResponse(response, 200, {
        candidates: [{ content: { parts: [{ text: "I cannot draw that." }] }, finishReason: "STOP" }],
      }),
    );
    assert.equal(
      (await providerFailure(provider.generate({ model: "m", prompt: "x", count: 1 }), KEY)).failure,
      "blocked",
    );
  });

  it("classifies 429 and 503 as retryable, 400 as final", async () => {
    server.next("generateContent", (_, response) =>
      jsonResponse(response, 429, googleError(429, "RESOURCE_EXHAUSTED", "quota", "7s")),
    );
    const limited = await providerFailure(provider.generate({ model: "m", prompt: "x", count: 1 }), KEY);
    assert.equal(limited.failure, "rate_limited");
    assert.equal(limited.retryable, true);
    assert.equal(limited.retryAfterSeconds, 7);
    server.next("generateContent", (_, response) =>
      jsonResponse(response, 503, googleError(503, "UNAVAILABLE", "busy")),
    );
    assert.equal(
      (await providerFailure(provider.generate({ model: "m", prompt: "x", count: 1 }), KEY)).retryable,
      true,
    );
    server.next("generateContent", (_, response) =>
      jsonResponse(response, 400, googleError(400, "INVALID_ARGUMENT", "bad")),
    );
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
    server.next("predictLongRunning", (_, response) => jsonResponse(response, 200, { name: operationName }));
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
      .next("operation", (_, response) => jsonResponse(response, 200, { name: operationName }))
      .next("operation", (_, response) =>
        jsonResponse(response, 200, {
          name: operationName,
          done: true,
          response: {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
            generateVideoResponse: {
              generatedSamples: [
                {
                  video: { uri: `https://generativelanguage.googleapis.com/v1beta/files/abc123xyz:download?alt=media` },
                },
              ],
            },
          },
        }),
      )
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
    server.next("operation", (_, response) =>
      jsonResponse(response, 200, { name: operationName, done: true, error: { code: 3, message: "bad prompt" } }),
    );
    const error = await providerFailure(provider.poll(operationName), KEY);
    assert.equal(error.failure, "rejected");
    assert.equal(error.toAppError().code, "unavailable");
  });

  it("reports filtered output as blocked, with the reasons", async () => {
    server.next("operation", (_, response) =>
      jsonResponse(response, 200, {
        name: operationName,
        done: true,
        response: { generateVideoResponse: { raiMediaFilteredCount: 1, raiMediaFilteredReasons: ["Unsafe content."] } },
      }),
    );
    const error = await providerFailure(provider.poll(operationName), KEY);
    assert.equal(error.failure, "blocked");
    assert.equal(error.reason, "Unsafe content.");
  });

  it("classifies a 503 on start as retryable", async () => {
    server.next("predictLongRunning", (_, response) =>
      jsonResponse(response, 503, googleError(503, "UNAVAILABLE", "busy")),
    );
    const error = await providerFailure(provider.start({ model: "veo-3.1-generate-preview", prompt: "x" }), KEY);
    assert.equal(error.retryable, true);
  });

  it("classifies a quota error on start as rate limited, a failure worth trying another model for", async () => {
    server.next("predictLongRunning", (_, response) =>
      jsonResponse(response, 429, googleError(429, "RESOURCE_EXHAUSTED", "quota", "30s")),
    );
    const error = await providerFailure(provider.start({ model: "veo-3.1-generate-preview", prompt: "x" }), KEY);
    assert.equal(error.failure, "rate_limited");
    assert.equal(error.retryAfterSeconds, 30);
    assert.ok(error.fallbackWorthy);
  });

  it("gives up on a poll that gets no answer within the timeout, as a retryable failure", async () => {
    server.next("operation", async (_, response) => {
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      jsonResponse(response, 200, { name: operationName });
    });
    const error = await providerFailure(provider.poll(operationName), KEY);
    assert.equal(error.failure, "unavailable");
    assert.ok(error.retryable);
  });

  it("reports a failed operation as final: polling it again cannot change it", async () => {
    server.next("operation", (_, response) =>
      jsonResponse(response, 200, { name: operationName, done: true, error: { code: 13, message: "internal" } }),
    );
    const error = await providerFailure(provider.poll(operationName), KEY);
    assert.equal(error.retryable, false);
  });
});
