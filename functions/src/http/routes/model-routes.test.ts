import assert from "node:assert/strict";
import { startApiServer, type ApiServer } from "../../test-support/api-server.ts";
import { authEmulator, type TestUser } from "../../test-support/auth-emulator.ts";

interface ApiModel {
  readonly id: string;
  readonly label: string;
  readonly provider: string;
  readonly default: boolean;
  readonly lifecycle: string;
  readonly capabilities: Record<string, unknown>;
}

describe("GET /models", function () {
  this.timeout(30_000);
  let server: ApiServer;
  let user: TestUser;

  before(async () => {
    server = await startApiServer({
      OPENAI_COMPATIBLE_BASE_URL: "http://127.0.0.1:9/v1",
      OPENAI_COMPATIBLE_MODELS: "llama3.3",
      ALLOWED_MODELS: "gemini-3.8-flash,gemini-4-hydrogen,llama3.3,gemini-3-pro-image,veo-3.1-fast-generate-preview",
    });
    user = await (await authEmulator()).createUser();
  });
  after(async () => {
    await server.close();
  });

  const models = async (token?: string) => {
    const response = await fetch(`${server.url}/models`, {
      headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it("lists what the caller may pick per kind, the default first and exactly one default each", async () => {
    const { status, body } = await models(user.idToken);
    assert.equal(status, 200);
    assert.equal(body.ok, true);
    const ids = (kind: string) => (body[kind] as ApiModel[]).map((model) => model.id);
    assert.deepEqual(ids("text"), ["gemini-3.8-flash", "gemini-4-hydrogen", "llama3.3"]);
    assert.deepEqual(ids("image"), ["gemini-nano-banana-2.1", "gemini-3-pro-image"]);
    assert.deepEqual(ids("video"), [
      "gemini-omni-1.1-flash",
      "veo-3.1-fast-generate-preview",
      "veo-3.1-generate-preview",
    ]);
    for (const kind of ["text", "image", "video"]) {
      const defaults = (body[kind] as ApiModel[]).filter((model) => model.default);
      assert.equal(defaults.length, 1, kind);
      assert.equal(defaults[0], (body[kind] as ApiModel[])[0], `${kind}: the default comes first`);
    }
  });

  it("describes each model: label, provider, lifecycle and capabilities", async () => {
    const { body } = await models(user.idToken);
    const [flash] = body.text as ApiModel[];
    assert.deepEqual(flash, {
      id: "gemini-3.8-flash",
      label: "Gemini 3.8 Flash",
      provider: "gemini",
      default: true,
      lifecycle: "stable",
      capabilities: {
        thinking: true,
        thinking_levels: ["low", "medium", "high"],
        thought_summaries: true,
        grounding: true,
        function_calling: true,
        image_input: true,
        context_tokens: 1_048_576,
        max_output_tokens: 65_536,
      },
    });
    const llama = (body.text as ApiModel[]).find((model) => model.id === "llama3.3");
    assert.equal(llama?.provider, "openai-compatible");
    const [omni, ...veos] = body.video as ApiModel[];
    assert.equal(omni?.provider, "omni");
    assert.deepEqual(omni.capabilities.durations_seconds, [3, 4, 5, 6, 7, 8], "up to VIDEO_MAX_DURATION_SECONDS");
    assert.ok(veos.every((model) => model.provider === "veo" && model.lifecycle === "preview"));
    const [banana] = body.image as ApiModel[];
    assert.ok((banana?.capabilities.aspect_ratios as string[]).includes("8:1"));
  });

  it("needs a signed-in caller", async () => {
    const { status, body } = await models();
    assert.equal(status, 401);
    assert.equal((body.error as { code: string }).code, "unauthenticated");
  });
});
