import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigurationError, loadRuntimeConfig } from "./runtime-config.ts";

const production = { K_SERVICE: "api", FIREBASE_CONFIG: JSON.stringify({ projectId: "prod-1", storageBucket: "b1" }) };
const productionKeys = { GEMINI_API_KEY: "g-key-123", NANO_BANANA_API_KEY: "n-key-123", VEO_API_KEY: "v-key-123" };

function configurationError(environment: NodeJS.ProcessEnv): ConfigurationError {
  try {
    loadRuntimeConfig(environment);
  } catch (error) {
    if (error instanceof ConfigurationError) return error;
    throw error;
  }
  throw new Error("expected a ConfigurationError");
}

describe("runtime configuration", () => {
  it("has the runbook's defaults, with units in the names", () => {
    const { settings } = loadRuntimeConfig({});
    assert.equal(settings.STREAM_UPDATE_INTERVAL_MS, 1000);
    assert.equal(settings.TAVILY_SEARCH_DEPTH, "advanced");
    assert.equal(settings.TAVILY_MAX_RESULTS, 5);
    assert.equal(settings.TAVILY_MAX_QUERIES_PER_HOUR, 20);
    assert.equal(settings.SSE_HEARTBEAT_SECONDS, 15);
    assert.equal(settings.DISCONNECT_GRACE_SECONDS, 30);
    assert.equal(settings.MAX_REQUEST_BYTES, 16 * 1024 * 1024);
    assert.equal(settings.RATE_LIMIT_FREE, 50);
    assert.equal(settings.RATE_LIMIT_PAID, 500);
    assert.equal(settings.SSE_CONNECTIONS_WARNING, 150);
    assert.equal(settings.SSE_CONNECTIONS_CRITICAL, 200);
  });

  it("parses numbers, lists and booleans from strings", () => {
    const { settings } = loadRuntimeConfig({
      STREAM_UPDATE_INTERVAL_MS: "750",
      CORS_ALLOWED_ORIGINS: " https://a.example , https://b.example ,",
      AUTH_CHECK_REVOKED: "false",
    });
    assert.equal(settings.STREAM_UPDATE_INTERVAL_MS, 750);
    assert.deepEqual(settings.CORS_ALLOWED_ORIGINS, ["https://a.example", "https://b.example"]);
    assert.equal(settings.AUTH_CHECK_REVOKED, false);
  });

  describe("mode", () => {
    it("is embedded locally without Firestore, with simulated providers where keys are missing", () => {
      const config = loadRuntimeConfig({ GEMINI_API_KEY: "local-key-1" });
      assert.equal(config.mode, "embedded");
      assert.equal(config.production, false);
      assert.deepEqual(config.providers, {
        gemini: "live",
        nano_banana: "simulated",
        veo: "simulated",
        tavily: "simulated",
        openai_compatible: "unconfigured",
      });
    });

    it("is firebase when the Firestore emulator is running", () => {
      assert.equal(loadRuntimeConfig({ FIRESTORE_EMULATOR_HOST: "127.0.0.1:8080" }).mode, "firebase");
    });

    it("is firebase in production, taking project and bucket from FIREBASE_CONFIG", () => {
      const config = loadRuntimeConfig({ ...production, ...productionKeys });
      assert.equal(config.mode, "firebase");
      assert.equal(config.production, true);
      assert.equal(config.projectId, "prod-1");
      assert.equal(config.storageBucket, "b1");
    });

    it("requires API_KEY_HASH_SECRET in production when API keys are on, and a long one anywhere", () => {
      const enabled = configurationError({ ...production, ...productionKeys, API_KEYS_ENABLED: "true" });
      assert.ok(enabled.missing.includes("API_KEY_HASH_SECRET"));
      assert.ok(configurationError({ API_KEY_HASH_SECRET: "too-short" }).invalid.includes("API_KEY_HASH_SECRET"));
    });

    it("treats the functions emulator as not production", () => {
      assert.equal(loadRuntimeConfig({ K_SERVICE: "api", FUNCTIONS_EMULATOR: "true" }).production, false);
    });

    it("never simulates in production: a missing optional key is unconfigured", () => {
      const config = loadRuntimeConfig({ ...production, ...productionKeys });
      assert.equal(config.providers.tavily, "unconfigured");
    });

    it("can refuse simulation locally too", () => {
      assert.equal(loadRuntimeConfig({ SIMULATED_PROVIDERS: "off" }).providers.gemini, "unconfigured");
    });

    it("simulates a missing key in embedded mode only: against the Firestore emulator it is not configured", () => {
      assert.equal(loadRuntimeConfig({}).providers.tavily, "simulated");
      const firebase = loadRuntimeConfig({ FIRESTORE_EMULATOR_HOST: "127.0.0.1:8080" });
      assert.equal(firebase.mode, "firebase");
      assert.deepEqual(firebase.providers, {
        gemini: "unconfigured",
        nano_banana: "unconfigured",
        veo: "unconfigured",
        tavily: "unconfigured",
        openai_compatible: "unconfigured",
      });
    });

    it("simulates in firebase mode against the emulators when asked (SIMULATED_PROVIDERS=on)", () => {
      const config = loadRuntimeConfig({ FIRESTORE_EMULATOR_HOST: "127.0.0.1:8080", SIMULATED_PROVIDERS: "on" });
      assert.equal(config.providers.gemini, "simulated");
      assert.equal(config.providers.tavily, "simulated");
    });

    it("never simulates in production, even when asked", () => {
      const config = loadRuntimeConfig({ ...production, ...productionKeys, SIMULATED_PROVIDERS: "on" });
      assert.equal(config.providers.tavily, "unconfigured");
    });

    it("switches grounding off with TAVILY_ENABLED=false, even with a key", () => {
      const config = loadRuntimeConfig({ TAVILY_API_KEY: "t-key", TAVILY_ENABLED: "false" });
      assert.equal(config.providers.tavily, "unconfigured");
      assert.equal(loadRuntimeConfig({ TAVILY_API_KEY: "t-key" }).providers.tavily, "live");
    });
  });

  describe("fails fast with one grouped error", () => {
    it("names every missing production setting at once", () => {
      const error = configurationError(production);
      assert.deepEqual(error.missing, ["GEMINI_API_KEY", "NANO_BANANA_API_KEY", "VEO_API_KEY"]);
      assert.deepEqual(error.invalid, []);
    });

    it("names invalid settings without echoing their values", () => {
      const error = configurationError({
        ...production,
        ...productionKeys,
        STREAM_UPDATE_INTERVAL_MS: "soon-ish",
        TAVILY_SEARCH_DEPTH: "bottomless",
        GEMINI_ENDPOINT: "not a url",
      });
      assert.deepEqual(error.invalid, ["GEMINI_ENDPOINT", "STREAM_UPDATE_INTERVAL_MS", "TAVILY_SEARCH_DEPTH"]);
      const everything = `${error.message} ${JSON.stringify(error)}`;
      for (const value of ["soon-ish", "bottomless", "not a url", "g-key-123"]) assert.ok(!everything.includes(value));
      assert.deepEqual(JSON.parse(JSON.stringify(error)), {
        error: "configuration_invalid",
        missing: [],
        invalid: ["GEMINI_ENDPOINT", "STREAM_UPDATE_INTERVAL_MS", "TAVILY_SEARCH_DEPTH"],
        problems: {},
      });
    });

    it("treats a blank key as missing", () => {
      const error = configurationError({ ...production, ...productionKeys, VEO_API_KEY: "   " });
      assert.deepEqual(error.missing, ["VEO_API_KEY"]);
    });

    it("refuses embedded mode in production, where the disk does not last", () => {
      const error = configurationError({ ...production, ...productionKeys, DATA_BACKEND: "embedded" });
      assert.deepEqual(error.invalid, ["DATA_BACKEND"]);
    });

    it("refuses writing a streaming message more than once a second in firebase mode, Firestore's sustained rate", () => {
      const error = configurationError({ FIRESTORE_EMULATOR_HOST: "127.0.0.1:8080", STREAM_UPDATE_INTERVAL_MS: "500" });
      assert.deepEqual(error.invalid, ["STREAM_UPDATE_INTERVAL_MS"]);
      assert.match(error.problems.STREAM_UPDATE_INTERVAL_MS ?? "", /at least 1000 in firebase mode/);
      assert.equal(loadRuntimeConfig({ STREAM_UPDATE_INTERVAL_MS: "200" }).settings.STREAM_UPDATE_INTERVAL_MS, 200);
    });

    it("refuses a task dispatch deadline Cloud Tasks would refuse (above 30 minutes)", () => {
      assert.deepEqual(configurationError({ TASK_DISPATCH_DEADLINE_SECONDS: "1801" }).invalid, [
        "TASK_DISPATCH_DEADLINE_SECONDS",
      ]);
      assert.equal(
        loadRuntimeConfig({ TASK_DISPATCH_DEADLINE_SECONDS: "1800" }).settings.TASK_DISPATCH_DEADLINE_SECONDS,
        1800,
      );
    });

    it("refuses a critical connection threshold below the warning one", () => {
      const error = configurationError({ SSE_CONNECTIONS_WARNING: "100", SSE_CONNECTIONS_CRITICAL: "50" });
      assert.deepEqual(error.invalid, ["SSE_CONNECTIONS_CRITICAL"]);
    });
  });

  describe("models, checked against the catalogue", () => {
    const december = Date.parse("2026-12-02T12:00:00Z");

    it("defaults to current models of every kind, none of them deprecated", () => {
      const config = loadRuntimeConfig({}, process.cwd(), december);
      const { settings } = config;
      assert.equal(settings.DEFAULT_MODEL, "gemini-3.8-flash");
      assert.equal(settings.NANO_BANANA_MODEL, "gemini-nano-banana-2.1");
      assert.equal(settings.VIDEO_MODEL, "gemini-omni-1.1-flash");
      assert.equal(settings.VEO_MODEL, "veo-3.1-generate-preview");
      assert.deepEqual(config.modelWarnings, []);
      for (const id of [settings.DEFAULT_MODEL, settings.NANO_BANANA_MODEL, settings.VIDEO_MODEL]) {
        assert.equal(config.models.find((entry) => entry.id === id)?.lifecycle, "stable", id);
      }
    });

    it("refuses a retired model, naming the setting, its shutdown date and its replacement", () => {
      const error = configurationError({ DEFAULT_MODEL: "gemini-2.5-flash", VEO_MODEL: "veo-3.0-generate-001" });
      assert.deepEqual(error.invalid, ["DEFAULT_MODEL", "VEO_MODEL"]);
      assert.match(
        error.problems.DEFAULT_MODEL ?? "",
        /gemini-2\.5-flash was shut down on 2026-12-01; use gemini-3\.5-flash-lite/,
      );
      assert.match(error.problems.VEO_MODEL ?? "", /shut down on 2026-06-30; use veo-3\.1-generate-preview/);
      assert.match(error.message, /DEFAULT_MODEL: gemini-2\.5-flash was shut down/);
    });

    it("refuses unknown ids and models of the wrong kind, in lists too", () => {
      const error = configurationError({
        ALLOWED_MODELS: "gemini-3.8-flash,gpt-imaginary",
        TEXT_FALLBACK_MODELS: "gemini-nano-banana-2.1",
        VEO_MODEL: "gemini-omni-1.1-flash",
      });
      assert.deepEqual(error.invalid, ["ALLOWED_MODELS", "TEXT_FALLBACK_MODELS", "VEO_MODEL"]);
      assert.match(error.problems.ALLOWED_MODELS ?? "", /gpt-imaginary is not in the model catalogue/);
      assert.match(error.problems.TEXT_FALLBACK_MODELS ?? "", /is a image model, not a text model/);
      assert.match(error.problems.VEO_MODEL ?? "", /served by omni, not veo/);
    });

    it("warns about a deprecated model that still answers, with its date and replacement", () => {
      const config = loadRuntimeConfig({ ALLOWED_MODELS: "gemini-3.1-flash-lite" }, process.cwd(), december);
      assert.deepEqual(config.modelWarnings, [
        {
          setting: "ALLOWED_MODELS",
          model: "gemini-3.1-flash-lite",
          shutdown_date: "2027-05-07",
          replacement: "gemini-3.5-flash-lite",
        },
      ]);
    });

    it("turns a deprecated model into a start-up error on its shutdown day", () => {
      const shutdownDay = Date.parse("2027-05-07T00:00:00Z");
      assert.throws(
        () => loadRuntimeConfig({ ALLOWED_MODELS: "gemini-3.1-flash-lite" }, process.cwd(), shutdownDay),
        (error: unknown) => error instanceof ConfigurationError && error.invalid.includes("ALLOWED_MODELS"),
      );
    });

    it("adds the operator's OpenAI-compatible models, which need the server's URL", () => {
      const config = loadRuntimeConfig({
        OPENAI_COMPATIBLE_BASE_URL: "http://127.0.0.1:11434/v1",
        OPENAI_COMPATIBLE_MODELS: "llama3.3,qwen3",
        TEXT_FALLBACK_MODELS: "qwen3",
      });
      assert.equal(config.providers.openai_compatible, "live");
      assert.deepEqual(
        config.models.filter((entry) => entry.provider === "openai-compatible").map((entry) => entry.id),
        ["llama3.3", "qwen3"],
      );
      assert.deepEqual(configurationError({ OPENAI_COMPATIBLE_MODELS: "llama3.3" }).missing, [
        "OPENAI_COMPATIBLE_BASE_URL",
      ]);
      const vision = loadRuntimeConfig({
        OPENAI_COMPATIBLE_BASE_URL: "http://127.0.0.1:11434/v1",
        OPENAI_COMPATIBLE_MODELS: "llama3.3,qwen2.5-vl",
        OPENAI_COMPATIBLE_VISION_MODELS: "qwen2.5-vl",
      });
      const imageInput = (id: string) => {
        const entry = vision.models.find((model) => model.id === id);
        return entry?.kind === "text" && entry.capabilities.imageInput;
      };
      assert.deepEqual([imageInput("llama3.3"), imageInput("qwen2.5-vl")], [false, true]);
      const stranger = configurationError({
        OPENAI_COMPATIBLE_BASE_URL: "http://127.0.0.1:11434/v1",
        OPENAI_COMPATIBLE_MODELS: "llama3.3",
        OPENAI_COMPATIBLE_VISION_MODELS: "llava",
      });
      assert.deepEqual(stranger.invalid, ["OPENAI_COMPATIBLE_VISION_MODELS"]);
      const clash = configurationError({
        OPENAI_COMPATIBLE_BASE_URL: "http://127.0.0.1:11434/v1",
        OPENAI_COMPATIBLE_MODELS: "gemini-3.8-flash",
      });
      assert.deepEqual(clash.invalid, ["OPENAI_COMPATIBLE_MODELS"]);
    });
  });

  describe("the operator's tools file (TOOLS_FILE)", () => {
    const directory = mkdtempSync(join(tmpdir(), "atelier-tools-file-"));
    const file = (name: string, tools: unknown): string => {
      const path = join(directory, name);
      writeFileSync(path, typeof tools === "string" ? tools : JSON.stringify({ tools }));
      return path;
    };
    const lookup = {
      name: "lookup_order",
      description: "Looks up an order.",
      parameters: { type: "object", properties: { id: { type: "string" } } },
      url: "https://orders.example.com/lookup",
      auth: { header: "Authorization", secret: "ORDERS_TOKEN", prefix: "Bearer " },
    };

    it("reads the tools with their defaults, and the secrets they send by name", () => {
      const config = loadRuntimeConfig({
        TOOLS_FILE: file("good.json", [lookup]),
        TOOL_SECRETS: "ORDERS_TOKEN",
        ORDERS_TOKEN: "s3cret-value",
      });
      assert.deepEqual(
        config.httpTools.map((tool) => [tool.name, tool.method, tool.approval]),
        [["lookup_order", "POST", "never"]],
      );
      assert.deepEqual(config.toolSecrets, { ORDERS_TOKEN: "s3cret-value" });
    });

    it("stops start-up on a bad file, naming the problem, and on a secret not listed or not set", () => {
      const broken = configurationError({ TOOLS_FILE: file("broken.json", "{ not json") });
      assert.deepEqual(broken.invalid, ["TOOLS_FILE"]);
      assert.match(String(broken.problems.TOOLS_FILE), /cannot be read as JSON/);
      const clash = configurationError({
        TOOLS_FILE: file("clash.json", [{ ...lookup, name: "generate_image", url: "ftp://x" }]),
      });
      assert.match(String(clash.problems.TOOLS_FILE), /tools\.0\.name: is a built-in tool's name/);
      assert.match(String(clash.problems.TOOLS_FILE), /tools\.0\.url/);
      const unlisted = configurationError({ TOOLS_FILE: file("unlisted.json", [lookup]) });
      assert.deepEqual(unlisted.problems, { TOOL_SECRETS: "ORDERS_TOKEN named in TOOLS_FILE but not listed" });
      const unset = configurationError({ TOOLS_FILE: file("unset.json", [lookup]), TOOL_SECRETS: "ORDERS_TOKEN" });
      assert.deepEqual(unset.missing, ["ORDERS_TOKEN"]);
    });
  });

  describe("prices (PRICES_FILE) and budgets", () => {
    const directory = mkdtempSync(join(tmpdir(), "atelier-prices-file-"));
    const file = (name: string, content: unknown): string => {
      const path = join(directory, name);
      writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
      return path;
    };
    const local = {
      model: "llama-local",
      text: { input: 0.1, output: 0.2 },
      source: { url: "https://example.com/our-costs", read: "2026-12-01", official: false },
    };

    it("adds the operator's prices to the built-in ones", () => {
      const config = loadRuntimeConfig({ PRICES_FILE: file("good.json", { models: [local] }) });
      assert.ok(config.prices.models.some((entry) => entry.model === "llama-local"));
      assert.ok(config.prices.models.some((entry) => entry.model === "gemini-3.8-flash"));
      assert.equal(config.settings.BUDGET_FREE_USD, 5);
      assert.equal(config.settings.MAX_OUTPUT_TOKENS, 16_384);
    });

    it("stops start-up on a bad prices file, naming the problem", () => {
      assert.match(
        String(configurationError({ PRICES_FILE: file("broken.json", "[") }).problems.PRICES_FILE),
        /cannot be read as JSON/,
      );
      const negative = configurationError({
        PRICES_FILE: file("negative.json", { models: [{ ...local, text: { input: -1, output: 0 } }] }),
      });
      assert.match(String(negative.problems.PRICES_FILE), /models\.0\.text\.input/);
      const unknown = configurationError({ PRICES_FILE: file("unknown.json", { model: [local] }) });
      assert.deepEqual(unknown.invalid, ["PRICES_FILE"]);
    });

    it("refuses a model it could not price, and a negative or absurd budget", () => {
      const unpriced = configurationError({
        PRICES_FILE: file("unpriced.json", { models: [{ model: "gemini-3.8-flash", source: local.source }] }),
      });
      assert.match(String(unpriced.problems.PRICES_FILE), /no price for gemini-3\.8-flash/);
      assert.deepEqual(configurationError({ BUDGET_FREE_USD: "-1" }).invalid, ["BUDGET_FREE_USD"]);
      assert.deepEqual(configurationError({ BUDGET_PAID_USD: "1e12" }).invalid, ["BUDGET_PAID_USD"]);
    });
  });
});
