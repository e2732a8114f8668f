import assert from "node:assert/strict";
import { deployedSecretNames } from "./secret-names.ts";

describe("the secrets a deployment binds", () => {
  it("binds the Google keys and Tavily's by default, nothing optional", () => {
    assert.deepEqual(deployedSecretNames({}), [
      "GEMINI_API_KEY",
      "NANO_BANANA_API_KEY",
      "VEO_API_KEY",
      "TAVILY_API_KEY",
    ]);
  });

  it("binds the optional ones only when their feature is on", () => {
    const names = deployedSecretNames({
      TAVILY_ENABLED: "false",
      OPENAI_COMPATIBLE_BASE_URL: "http://10.0.0.5:11434/v1",
      API_KEYS_ENABLED: "true",
      TOOL_SECRETS: "ORDERS_TOKEN, CRM_TOKEN",
      OTEL_EXPORTER_OTLP_ENDPOINT: "https://collector.example.com",
    });
    assert.deepEqual(names, [
      "GEMINI_API_KEY",
      "NANO_BANANA_API_KEY",
      "VEO_API_KEY",
      "OPENAI_COMPATIBLE_API_KEY",
      "API_KEY_HASH_SECRET",
      "ORDERS_TOKEN",
      "CRM_TOKEN",
      "OTEL_EXPORTER_OTLP_HEADERS",
    ]);
  });

  it("binds no collector headers when Google credentials sign the exports", () => {
    const names = deployedSecretNames({
      OTEL_EXPORTER_OTLP_ENDPOINT: "https://telemetry.googleapis.com",
      OTEL_EXPORTER_GOOGLE_AUTH: "true",
    });
    assert.ok(!names.includes("OTEL_EXPORTER_OTLP_HEADERS"));
  });
});
