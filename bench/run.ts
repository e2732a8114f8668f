/**
 * `npm run bench [-- --quick] [-- --only relay,concurrency,persistence,cold-start,jobs,latency,fixed]`: Atelier's performance,
 * measured against a floor and a peer in the same run (these machines are shared and noisy: ratios and medians,
 * never absolute promises). Prints one table per benchmark, checks the budgets (a missed budget is printed loudly
 * and makes the exit code 1), and writes everything to bench/results/latest.json.
 */
import { spawnSync } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AuthEmulator, TEST_PROJECT_ID } from "../functions/src/test-support/auth-emulator.ts";
import { repositoryRoot } from "../scripts/lib/paths.ts";
import { coldStart } from "./cold-start.ts";
import { concurrency } from "./concurrency.ts";
import { jobs } from "./jobs.ts";
import { createBenchContext, type BenchContext, type BenchResult } from "./lib/bench-context.ts";
import { persistence } from "./persistence.ts";
import { streamingRelay } from "./streaming-relay.ts";
import { storeLatency } from "./store-latency.ts";
import { fixedCost } from "./fixed-cost.ts";

const quick = process.argv.includes("--quick");
const onlyIndex = process.argv.indexOf("--only");
const only = onlyIndex === -1 ? undefined : new Set((process.argv[onlyIndex + 1] ?? "").split(","));
const benchmarks: readonly [string, (context: BenchContext) => Promise<BenchResult>][] = [
  ["relay", streamingRelay],
  ["concurrency", concurrency],
  ["persistence", persistence],
  ["cold-start", coldStart],
  ["jobs", jobs],
  ["latency", storeLatency],
  ["fixed", fixedCost],
];

const started = Date.now();
const build = spawnSync(join(repositoryRoot, "node_modules", ".bin", "tsc"), ["-p", "functions"], {
  cwd: repositoryRoot,
  stdio: "inherit",
});
if (build.status !== 0) process.exit(build.status ?? 1);

process.env.NO_PROXY = [process.env.NO_PROXY, "127.0.0.1", "localhost"].filter(Boolean).join(",");
const emulator = await AuthEmulator.start();
// In-process benchmarks verify tokens in this process: firebase-admin finds the emulator through this variable.
process.env.FIREBASE_AUTH_EMULATOR_HOST = emulator.host;
const idTokens = await Promise.all(Array.from({ length: 10 }, async () => (await emulator.createUser()).idToken));
const context = createBenchContext({ quick, authEmulatorHost: emulator.host, projectId: TEST_PROJECT_ID, idTokens });
const machine = {
  cpus: cpus().length,
  cpu_model: cpus()[0]?.model ?? "unknown",
  memory_gib: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  platform: `${process.platform}-${process.arch}`,
};
console.log(
  `Atelier benchmarks on ${String(machine.cpus)} x ${machine.cpu_model}, ${String(machine.memory_gib)} GiB, Node ${machine.node}${quick ? " (quick)" : ""}\n`,
);

const results: Record<string, BenchResult> = {};
try {
  for (const [name, run] of benchmarks) {
    if (only !== undefined && !only.has(name)) continue;
    const benchmarkStarted = Date.now();
    const result = await run(context);
    results[name] = result;
    console.log(`## ${result.title}\n\n${result.table}\n`);
    for (const note of result.notes ?? []) console.log(`- ${note}`);
    for (const budget of result.budgets) {
      const ok = budget.value <= budget.limit;
      console.log(
        `${ok ? "   ok" : "!!! BUDGET MISSED"}: ${budget.name} = ${String(budget.value)} (limit ${String(budget.limit)})`,
      );
    }
    console.log(`(${((Date.now() - benchmarkStarted) / 1000).toFixed(0)} s)\n`);
  }
} finally {
  await emulator.stop();
  for (const directory of context.directories) rmSync(directory, { recursive: true, force: true });
}

const missed = Object.values(results).flatMap((result) =>
  result.budgets.filter((budget) => budget.value > budget.limit),
);
writeFileSync(
  join(repositoryRoot, "bench", "results", "latest.json"),
  `${JSON.stringify({ date: new Date().toISOString(), machine, quick, results, missed_budgets: missed }, null, 2)}\n`,
);
console.log(`Wrote bench/results/latest.json in ${((Date.now() - started) / 1000).toFixed(0)} s.`);
if (missed.length > 0) {
  console.log(
    `\n!!! ${String(missed.length)} budget(s) missed:\n${missed.map((budget) => `  - ${budget.name}: ${String(budget.value)} > ${String(budget.limit)}`).join("\n")}`,
  );
  process.exit(1);
}
console.log("All budgets met.");
