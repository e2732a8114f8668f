/**
 * `npm test`: everything CI checks, in order, stopping at the first failure: lint and formatting, type-check,
 * the build, the unit and integration suite (real SQLite, real Auth emulator, provider SDKs against local
 * wire-format servers), then the end-to-end suite against the local stack (real Auth, Functions, Cloud Tasks
 * and Hosting emulators), the web client's tests in Chromium among them. Prints each step's duration.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { repositoryRoot } from "./lib/paths.ts";

const bin = (name: string) => join(repositoryRoot, "node_modules", ".bin", name);

const steps: readonly { name: string; command: string; args: string[] }[] = [
  { name: "lint", command: bin("eslint"), args: ["."] },
  { name: "format", command: bin("prettier"), args: ["--check", "."] },
  { name: "type-check", command: bin("tsc"), args: ["-p", "."] },
  { name: "build", command: bin("tsc"), args: ["-p", "functions"] },
  { name: "unit and integration tests", command: bin("mocha"), args: [] },
  {
    name: "security rules tests",
    command: join(repositoryRoot, "node_modules", ".bin", "node"),
    args: ["security-rules/run.ts"],
  },
  { name: "end-to-end tests", command: bin("mocha"), args: ["--config", "e2e/.mocharc.json"] },
];

function run(command: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: repositoryRoot, stdio: "inherit" });
    child.on("error", reject);
    child.on("exit", (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
  });
}

const started = Date.now();
const timings: string[] = [];
for (const step of steps) {
  const stepStarted = Date.now();
  console.log(`\n=== ${step.name} ===`);
  const code = await run(step.command, step.args);
  timings.push(`${step.name}: ${((Date.now() - stepStarted) / 1000).toFixed(1)} s`);
  if (code !== 0) {
    console.error(`\nFAILED at "${step.name}" (exit ${String(code)}).\n${timings.join("\n")}`);
    process.exit(code);
  }
}
console.log(`\nAll checks passed in ${((Date.now() - started) / 1000).toFixed(1)} s:\n${timings.join("\n")}`);
