import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { repositoryRoot } from "../scripts/lib/paths.ts";
import type { BenchContext, BenchResult } from "./lib/bench-context.ts";
import { median, round } from "./lib/stats.ts";
import { markdownTable } from "./lib/table.ts";

/**
 * Cold start: how long a fresh process takes to import the built functions entry, against importing bare
 * `firebase-functions/v2/https` (the least any HTTPS function pays), and the time from process start to the first
 * `/healthz` answer, against a bare `onRequest` function. Medians of interleaved runs.
 */
const functionsDirectory = fileURLToPath(new URL("../functions/", import.meta.url));

function importMilliseconds(specifier: string, environment: Record<string, string>): number {
  const result = spawnSync(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      `const t = performance.now(); await import(${JSON.stringify(specifier)}); console.log(performance.now() - t);`,
    ],
    { cwd: functionsDirectory, encoding: "utf8", env: { ...process.env, ...environment } },
  );
  return Number(result.stdout.trim());
}

async function firstHealthzMilliseconds(kind: "ours" | "bare", environment: Record<string, string>): Promise<number> {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    ["--disable-warning=ExperimentalWarning", fileURLToPath(new URL("./cold-start-server.ts", import.meta.url))],
    {
      cwd: repositoryRoot,
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, ...environment, COLD_START_KIND: kind, FUNCTION_TARGET: "api" },
    },
  );
  try {
    const url = await new Promise<string>((resolve) => {
      child.stdout.setEncoding("utf8").on("data", (text: string) => {
        const match = /listening (\S+)/.exec(text);
        if (match?.[1] !== undefined) resolve(match[1]);
      });
    });
    for (;;) {
      try {
        const response = await fetch(`${url}/healthz`);
        if (response.ok) return performance.now() - started;
      } catch {
        // not yet
      }
    }
  } finally {
    child.kill("SIGKILL");
  }
}

export async function coldStart(context: BenchContext): Promise<BenchResult> {
  const runs = context.quick ? 5 : 11;
  const bare: number[] = [];
  const api: number[] = [];
  const discovery: number[] = [];
  for (let run = 0; run < runs; run++) {
    bare.push(importMilliseconds("firebase-functions/v2/https", {}));
    api.push(importMilliseconds("./lib/index.js", { FUNCTION_TARGET: "api" }));
    discovery.push(importMilliseconds("./lib/index.js", { FUNCTION_TARGET: "" }));
  }
  const healthBare: number[] = [];
  const healthOurs: number[] = [];
  const healthRuns = context.quick ? 3 : 7;
  for (let run = 0; run < healthRuns; run++) {
    healthBare.push(await firstHealthzMilliseconds("bare", {}));
    healthOurs.push(await firstHealthzMilliseconds("ours", context.oursEnvironment()));
  }
  const bareMedian = median(bare);
  const apiRatio = round(median(api) / bareMedian);
  const healthRatio = round(median(healthOurs) / median(healthBare));
  return {
    title: `4. Cold start (medians of ${String(runs)} fresh processes; first /healthz: ${String(healthRuns)})`,
    table: markdownTable(
      ["measure", "ms", "ratio"],
      [
        ["import bare firebase-functions/v2/https", round(bareMedian, 1), 1],
        ["import functions entry, FUNCTION_TARGET=api", round(median(api), 1), apiRatio],
        [
          "import functions entry, no target (deploy discovery)",
          round(median(discovery), 1),
          round(median(discovery) / bareMedian),
        ],
        ["process start to first /healthz, bare onRequest", round(median(healthBare), 1), 1],
        ["process start to first /healthz, api (embedded services built)", round(median(healthOurs), 1), healthRatio],
      ],
    ),
    data: {
      import_bare_ms: round(bareMedian, 1),
      import_api_ms: round(median(api), 1),
      import_discovery_ms: round(median(discovery), 1),
      import_ratio: apiRatio,
      first_healthz_bare_ms: round(median(healthBare), 1),
      first_healthz_api_ms: round(median(healthOurs), 1),
      first_healthz_ratio: healthRatio,
    },
    budgets: [{ name: "entry import time, api instance / bare firebase-functions", value: apiRatio, limit: 1.3 }],
    notes: [
      "Provider SDKs, firebase-admin parts, SQLite and zod load on first use (the first request), not at import.",
      "Only jobStatusTrigger instances (and deploy discovery) import firebase-functions/v2/firestore (~180 ms).",
    ],
  };
}
