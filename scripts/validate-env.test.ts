import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const script = fileURLToPath(new URL("./validate-env.ts", import.meta.url));

function validate(target: string, environment: Record<string, string>) {
  const result = spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", script, "--target", target], {
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "", ...environment },
  });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

describe("scripts/validate-env", function () {
  this.timeout(20_000);

  it("lists every missing production setting by name and exits 1", () => {
    const { code, output } = validate("production", { GEMINI_API_KEY: "AIzaVisibleOnlyToTheProcess1" });
    assert.equal(code, 1);
    const report = JSON.parse(output.slice(0, output.lastIndexOf("}") + 1)) as { missing: string[] };
    assert.deepEqual(report.missing, [
      "FIREBASE_PROJECT_ID",
      "FIREBASE_STORAGE_BUCKET",
      "NANO_BANANA_API_KEY",
      "VEO_API_KEY",
    ]);
    assert.ok(!output.includes("AIzaVisibleOnlyToTheProcess1"), "never prints a value");
  });

  it("names invalid values without printing them", () => {
    const { code, output } = validate("production", {
      FIREBASE_PROJECT_ID: "p",
      FIREBASE_STORAGE_BUCKET: "b",
      GEMINI_API_KEY: "g-123456",
      NANO_BANANA_API_KEY: "n-123456",
      VEO_API_KEY: "v-123456",
      TAVILY_MAX_RESULTS: "lots-and-lots",
    });
    assert.equal(code, 1);
    assert.match(output, /"TAVILY_MAX_RESULTS"/);
    assert.ok(!output.includes("lots-and-lots"));
  });

  it("passes a complete production environment, noting that grounding is off without Tavily", () => {
    const { code, output } = validate("production", {
      FIREBASE_PROJECT_ID: "p",
      FIREBASE_STORAGE_BUCKET: "b",
      GEMINI_API_KEY: "g-123456",
      NANO_BANANA_API_KEY: "n-123456",
      VEO_API_KEY: "v-123456",
    });
    assert.equal(code, 0, output);
    assert.match(output, /OK: every required setting for production is present/);
    assert.match(output, /TAVILY_API_KEY is not set/);
    assert.match(output, /roles\/cloudtasks\.enqueuer/, "names the permissions it cannot check offline");
  });

  it("fails on a retired model, saying when it was shut down and what replaces it", () => {
    const retired = validate("local", { DEFAULT_MODEL: "gemini-2.5-flash" });
    assert.equal(retired.code, 1);
    assert.match(
      retired.output,
      /"DEFAULT_MODEL": "gemini-2\.5-flash was shut down on 2026-12-01; use gemini-3\.5-flash-lite"/,
    );
  });

  it("passes an empty local environment, where missing keys mean simulated providers", () => {
    const { code, output } = validate("local", {});
    assert.equal(code, 0, output);
    assert.match(output, /"gemini": "simulated"/);
  });
});
