import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { loadRuntimeConfig } from "../functions/src/config/runtime-config.ts";
import { createApi } from "../functions/src/runtime/api.ts";
import type {
  GeneratedImage,
  ImageGenerationRequest,
  ImageProvider,
} from "../functions/src/providers/image-provider.ts";
import { SimulatedImageProvider } from "../functions/src/providers/simulated/simulated-image-provider.ts";
import { createServices, type Services } from "../functions/src/runtime/services.ts";
import { paths } from "../functions/src/store/paths.ts";
import type { JobRecord } from "../functions/src/store/records.ts";
import { freePort } from "../functions/src/test-support/free-port.ts";
import { startLocalStack } from "../scripts/lib/local-stack.ts";
import type { BenchContext, BenchResult } from "./lib/bench-context.ts";
import { median, percentile, round } from "./lib/stats.ts";
import { markdownTable } from "./lib/table.ts";

/**
 * Image jobs with a zero-delay simulated provider: enqueue-to-done latency and throughput through the worker
 * code path (submission → in-process queue → worker → provider → storage → status propagation), the worker's own
 * overhead beside the provider's time, and the same latency through the Cloud Tasks emulator.
 */
const PROMPT = "a lighthouse at dusk";

/** The simulated image provider, timing each call so each job's overhead is its latency minus its own provider time. */
class TimedImageProvider implements ImageProvider {
  readonly run = "simulated" as const;
  readonly #inner = new SimulatedImageProvider({ delayMs: 0 });
  readonly durations: number[] = [];

  async generate(request: ImageGenerationRequest): Promise<GeneratedImage[]> {
    const started = performance.now();
    try {
      return await this.#inner.generate(request);
    } finally {
      this.durations.push(performance.now() - started);
    }
  }
}

function waitForDone(services: Services, uid: string, jobId: string): Promise<number> {
  return new Promise((resolve) => {
    const unsubscribe = services.database.watch<JobRecord>(paths.job(uid, jobId), (document) => {
      if (document?.data.status === "done" || document?.data.status === "error") {
        unsubscribe();
        resolve(performance.now());
      }
    });
  });
}

export async function jobs(context: BenchContext): Promise<BenchResult> {
  const config = loadRuntimeConfig(context.oursEnvironment({ SIMULATED_JOB_DELAY_MS: "0" }));
  const provider = new TimedImageProvider();
  const services = await createServices(config, { logSink: () => undefined, imageProvider: provider });
  const api = createApi(services);
  const server: Server = createServer((request, response) => void api(request, response));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const url = typeof address === "object" && address !== null ? `http://127.0.0.1:${String(address.port)}` : "";
  const token = context.idToken(0);
  const uid = (await services.verifier.verify(token)).uid;
  const submit = async () => {
    const response = await fetch(`${url}/image/generate`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ prompt: PROMPT }),
    });
    return ((await response.json()) as { job_id: string }).job_id;
  };

  const rows: (string | number)[][] = [];
  const data: Record<string, unknown> = {};
  try {
    const sequential: number[] = [];
    const sequentialCount = context.quick ? 5 : 20;
    const cpuBefore = process.cpuUsage();
    for (let index = 0; index < sequentialCount; index++) {
      const started = performance.now();
      const jobId = await submit();
      sequential.push((await waitForDone(services, uid, jobId)) - started);
    }
    const cpu = process.cpuUsage(cpuBefore);
    const cpuPerJobMs = (cpu.user + cpu.system) / 1000 / sequentialCount;
    const latency = median(sequential);
    // One at a time, the n-th provider call belongs to the n-th job.
    const providerMs = median(provider.durations);
    const overheadMs = median(sequential.map((jobMs, index) => jobMs - (provider.durations[index] ?? 0)));
    rows.push([
      "in-process queue, one at a time",
      round(latency, 1),
      round(percentile(sequential, 0.95), 1),
      round(providerMs, 1),
      round(overheadMs, 1),
      "",
    ]);

    const burst = context.quick ? 10 : 50;
    const burstStarted = performance.now();
    const finished = await Promise.all(
      Array.from({ length: burst }, async () => waitForDone(services, uid, await submit())),
    );
    const burstSeconds = (Math.max(...finished) - burstStarted) / 1000;
    const throughput = round(burst / burstSeconds, 1);
    rows.push([
      `in-process queue, ${String(burst)} at once`,
      round(Math.max(...finished) - burstStarted, 1),
      "",
      "",
      "",
      throughput,
    ]);
    data.in_process = {
      provider_ms: round(providerMs, 1),
      latency_p50_ms: round(latency, 1),
      latency_p95_ms: round(percentile(sequential, 0.95), 1),
      worker_overhead_ms: round(overheadMs, 1),
      process_cpu_per_job_ms: round(cpuPerJobMs, 1),
      burst,
      throughput_jobs_per_second: throughput,
    };
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await services.close();
  }

  if (!context.quick) {
    const directory = mkdtempSync(join(tmpdir(), "atelier-bench-stack-"));
    const stack = await startLocalStack({
      dataDirectory: directory,
      ports: {
        auth: await freePort(),
        functions: await freePort(),
        tasks: await freePort(),
        hub: await freePort(),
        logging: await freePort(),
      },
      environment: { SIMULATED_JOB_DELAY_MS: "0" },
    });
    try {
      const { idToken } = await stack.auth.signUp(`bench-${String(Date.now())}@atelier.test`, "bench-password");
      const headers = { Authorization: `Bearer ${idToken}`, "Content-Type": "application/json" };
      const samples: number[] = [];
      for (let index = 0; index < 6; index++) {
        const started = performance.now();
        const response = await fetch(`${stack.backendUrl}/image/generate`, {
          method: "POST",
          headers,
          body: JSON.stringify({ prompt: PROMPT }),
        });
        const { job_id: jobId } = (await response.json()) as { job_id: string };
        for (;;) {
          const job = (await (await fetch(`${stack.backendUrl}/jobs/${jobId}`, { headers })).json()) as {
            status: string;
          };
          if (job.status === "done" || job.status === "error") break;
          await sleep(25);
        }
        if (index > 0) samples.push(performance.now() - started);
      }
      rows.push([
        "Cloud Tasks emulator, one at a time (after a warm-up job)",
        round(median(samples), 1),
        round(percentile(samples, 0.95), 1),
        "",
        "",
        "",
      ]);
      data.tasks_emulator = {
        latency_p50_ms: round(median(samples), 1),
        latency_p95_ms: round(percentile(samples, 0.95), 1),
        jobs: samples.length,
      };
    } finally {
      await stack.stop();
      rmSync(directory, { recursive: true, force: true });
    }
  }
  return {
    title: "5. Image jobs (zero-delay simulated provider: a 640x640 PNG drawn and encoded per job)",
    table: markdownTable(
      ["path", "enqueue→done p50 ms", "p95 ms", "provider ms", "worker overhead ms", "jobs / s"],
      rows,
    ),
    data,
    budgets: [],
    notes: [
      "Worker overhead = latency minus the provider's own time: HTTP submission, the start transaction, the enqueue, the claim, storing the PNG, completion and status propagation.",
      "The Cloud Tasks emulator dispatches on a polling loop, which dominates its latency; production Cloud Tasks dispatches in milliseconds.",
    ],
  };
}
