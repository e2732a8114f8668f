import { noTelemetry } from "../telemetry/telemetry.ts";
import assert from "node:assert/strict";
import { loadRuntimeConfig } from "../config/runtime-config.ts";
import { Logger } from "../logging/logger.ts";
import { GeminiTextProvider } from "../providers/google/gemini-text-provider.ts";
import { SimulatedTextProvider } from "../providers/simulated/simulated-text-provider.ts";
import type { TextProvider, ThinkingLevel } from "../providers/text-provider.ts";
import { modelChoices } from "../runtime/services.ts";
import { ProviderWireServer, streamChunks, textChunks } from "../test-support/provider-wire-server.ts";
import { TextModels, type TextModelEvent } from "./text-models.ts";

describe("text models: choosing a model and walking its fallback chain", () => {
  const logLines: string[] = [];
  const logger = new Logger({ sink: (line) => logLines.push(line) });
  const config = loadRuntimeConfig({
    DEFAULT_MODEL: "gemini-3.8-flash",
    ALLOWED_MODELS: "gemini-4-carbon",
    TEXT_FALLBACK_MODELS: "gemini-3.5-flash-lite",
  });
  const models = (provider: TextProvider, thinkingLevel: ThinkingLevel = "low") =>
    new TextModels({
      choices: modelChoices(config),
      providers: { gemini: provider },
      thinkingLevel,
      maxOutputTokens: config.settings.MAX_OUTPUT_TOKENS,
      logger,
      telemetry: noTelemetry(),
    });
  const request = (text: string, includeThoughts = false) => ({
    systemInstruction: "",
    contents: [{ role: "user" as const, text }],
    includeThoughts,
    signal: new AbortController().signal,
  });
  const collect = async (events: AsyncIterable<TextModelEvent>) => {
    const received: TextModelEvent[] = [];
    for await (const event of events) received.push(event);
    return received;
  };

  it("offline, simulate:primary-down answers from the next model and says which one answered", async () => {
    const text = models(new SimulatedTextProvider({ tokenDelayMs: 0 }));
    const events = await collect(text.stream(text.choose(undefined), request("hello simulate:primary-down")));
    assert.deepEqual(events[0], {
      type: "answering",
      model: "gemini-3.5-flash-lite",
      run: "simulated",
      fallbackFrom: "gemini-3.8-flash",
    });
    assert.equal(events.at(-1)?.type, "finish");
    assert.match(logLines.join("\n"), /"next_model":"gemini-3.5-flash-lite"/);
  });

  it("offline, thoughts stream first when asked for, and never otherwise", async () => {
    const text = models(new SimulatedTextProvider({ tokenDelayMs: 0 }));
    const thoughtful = await collect(text.stream(text.choose(undefined), request("a poem about rain", true)));
    const kinds = thoughtful.map((event) => event.type);
    assert.equal(kinds[0], "answering");
    assert.equal(kinds[1], "thinking");
    assert.ok(kinds.indexOf("text") > kinds.lastIndexOf("thinking"), "thoughts come before the answer");
    const plain = await collect(text.stream(text.choose(undefined), request("a poem about rain")));
    assert.ok(!plain.some((event) => event.type === "thinking"));
  });

  it("sends the thinking level only to models that accept it", async () => {
    const gemini = await ProviderWireServer.start();
    gemini.setDefault("streamGenerateContent", (_, response) => streamChunks(response, textChunks(["ok"])));
    try {
      const text = models(new GeminiTextProvider({ apiKey: "k", baseUrl: gemini.url, timeoutMs: 2_000 }), "minimal");
      const levelOf = async (model: string | undefined) => {
        gemini.reset();
        await collect(text.stream(text.choose(model), request("hi", true)));
        const body = gemini.requests[0]?.body as { generationConfig?: { thinkingConfig?: Record<string, unknown> } };
        return body.generationConfig?.thinkingConfig;
      };
      // 3.8 Flash takes low, medium and high; Gemini 4 Carbon publishes no levels.
      assert.deepEqual(await levelOf("gemini-3.8-flash"), { includeThoughts: true });
      assert.deepEqual(await levelOf("gemini-4-carbon"), { includeThoughts: true });
      const low = models(new GeminiTextProvider({ apiKey: "k", baseUrl: gemini.url, timeoutMs: 2_000 }), "low");
      gemini.reset();
      await collect(low.stream(low.choose("gemini-3.8-flash"), request("hi")));
      const body = gemini.requests[0]?.body as { generationConfig?: { thinkingConfig?: Record<string, unknown> } };
      assert.deepEqual(body.generationConfig?.thinkingConfig, { thinkingLevel: "LOW" });
    } finally {
      await gemini.close();
    }
  });

  it("refuses a model outside the pickable list, naming the choices", () => {
    const text = models(new SimulatedTextProvider({ tokenDelayMs: 0 }));
    assert.throws(
      () => text.choose("gemini-4-neon"),
      (error: unknown) =>
        error instanceof Error &&
        "details" in error &&
        JSON.stringify(error.details).includes("gemini-3.8-flash, gemini-4-carbon"),
    );
  });
});
