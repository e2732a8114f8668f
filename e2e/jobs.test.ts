import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { LocalStack } from "../scripts/lib/local-stack.ts";
import { until } from "../functions/src/test-support/until.ts";
import { localStack } from "./local-stack-fixture.ts";

/**
 * Images and video end to end: submissions through the Functions emulator, tasks through the real Cloud Tasks
 * emulator to the `imageWorker` and `videoWorker` functions (each in its own worker process), media served by
 * the `api` function. The smoke scripts (`npm run smoke:*`) are the operator's post-deploy checks.
 */
describe("image and video jobs end to end (local stack)", function () {
  let stack: LocalStack;

  before(async function () {
    this.timeout(180_000);
    stack = await localStack();
  });

  function smoke(name: string, ...args: string[]) {
    const script = fileURLToPath(new URL(`../scripts/${name}.ts`, import.meta.url));
    const result = spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", script, ...args], {
      encoding: "utf8",
      timeout: 110_000,
      env: {
        PATH: process.env.PATH ?? "",
        BACKEND_URL: stack.backendUrl,
        FIREBASE_AUTH_EMULATOR_HOST: stack.authEmulatorHost,
        FIREBASE_PROJECT_ID: stack.projectId,
        SMOKE_TIMEOUT_SECONDS: "90",
      },
    });
    return { code: result.status, output: `${result.stdout}${result.stderr}` };
  }

  it("scripts/smoke-image passes through the Cloud Tasks emulator", () => {
    const { code, output } = smoke("smoke-image");
    assert.equal(code, 0, output);
    assert.match(output, /^image: image\/png, \d+ bytes$/m);
    assert.match(output, /^PASS: image generation completed and image URL present$/m);
  });

  it("scripts/smoke-video passes on both video vendors: start, delayed polls, a playable MP4", () => {
    for (const [args, model] of [
      [[], "gemini-omni-1.1-flash"],
      [["--model", "veo-3.1-generate-preview"], "veo-3.1-generate-preview"],
    ] as const) {
      const { code, output } = smoke("smoke-video", ...args);
      assert.equal(code, 0, output);
      assert.match(output, new RegExp(`job_id=videojob-\\S+ model=${model.replaceAll(".", "\\.")}$`, "m"));
      assert.match(output, /^video: video\/mp4, \d+ bytes$/m);
      assert.match(output, /^PASS: video job completed and video_url present$/m);
    }
  });

  it("reports a failed image job on the message, through the worker process", async () => {
    const { idToken } = await stack.auth.signUp(`jobs-${Date.now()}@atelier.test`, "e2e-password");
    const headers = { Authorization: `Bearer ${idToken}`, "Content-Type": "application/json" };
    const submitted = (await (
      await fetch(`${stack.backendUrl}/image/generate`, {
        method: "POST",
        headers,
        body: JSON.stringify({ prompt: "simulate:blocked" }),
      })
    ).json()) as { job_id: string };
    const job = await until(
      async () =>
        (await (await fetch(`${stack.backendUrl}/jobs/${submitted.job_id}`, { headers })).json()) as {
          status: string;
          error_code?: string;
        },
      (current) => current.status === "error",
      { timeoutMs: 60_000, intervalMs: 250, what: "the job's error" },
    );
    assert.equal(job.error_code, "blocked");
  });
});
