import { randomUUID } from "node:crypto";
import type { BenchContext, BenchResult } from "./lib/bench-context.ts";
import { startContender, type Contender } from "./lib/contender.ts";
import { streamOnce } from "./lib/sse-load.ts";
import { median, round } from "./lib/stats.ts";
import { markdownTable } from "./lib/table.ts";

/**
 * What one answer costs besides its tokens: streams of a single token, 10 at a time, on our `api` handler and on
 * the batched floor (the same SSE relay with nothing around it). Ours minus the floor is the fixed work of one
 * answer: verifying the token, the start transaction, the history read, the message writes, logs and spans.
 */
const STREAMS = 200;
const AT_ONCE = 10;

export async function fixedCost(context: BenchContext): Promise<BenchResult> {
  const rounds = context.quick ? 1 : 3;
  const environment = { BENCH_TOKENS: "1", BENCH_TOKEN_DELAY_MS: "0" };
  const contenders: Record<string, Contender> = {
    "floor-batched": await startContender("floor-batched", environment),
    ours: await startContender("ours", { ...environment, ...context.oursEnvironment() }),
  };
  const measure = async (kind: string) => {
    const contender = contenders[kind];
    if (contender === undefined) throw new Error(kind);
    await contender.reset();
    const before = await contender.stats();
    let failures = 0;
    for (let sent = 0; sent < STREAMS; sent += AT_ONCE) {
      const outcomes = await Promise.all(
        Array.from({ length: AT_ONCE }, (_, index) =>
          streamOnce({
            url: `${contender.url}/chat/stream`,
            headers: kind === "ours" ? { Authorization: `Bearer ${context.idToken(index)}` } : {},
            body: { message: "One word, please.", request_id: `fixed-${randomUUID()}` },
          }),
        ),
      );
      failures += outcomes.filter((outcome) => !outcome.ok).length;
    }
    const after = await contender.stats();
    return { cpuPerStreamMs: (after.cpuMs - before.cpuMs) / STREAMS, failures };
  };
  try {
    for (const kind of Object.keys(contenders)) await measure(kind);
    const samples: Record<string, { cpuPerStreamMs: number; failures: number }[]> = {};
    for (let roundIndex = 0; roundIndex < rounds; roundIndex++) {
      for (const kind of Object.keys(contenders)) (samples[kind] ??= []).push(await measure(kind));
    }
    const pick = (kind: string) => ({
      cpuPerStreamMs: round(median((samples[kind] ?? []).map((sample) => sample.cpuPerStreamMs))),
      failures: (samples[kind] ?? []).reduce((sum, sample) => sum + sample.failures, 0),
    });
    const floor = pick("floor-batched");
    const ours = pick("ours");
    const fixed = round(ours.cpuPerStreamMs - floor.cpuPerStreamMs);
    return {
      title: `Fixed CPU per answer (${String(STREAMS)} one-token answers, ${String(AT_ONCE)} at a time; medians of ${String(rounds)} rounds)`,
      table: markdownTable(
        ["contender", "CPU ms per answer", "failed", "ours − floor, ms"],
        [
          ["floor, batched per tick", floor.cpuPerStreamMs, floor.failures, ""],
          ["ours", ours.cpuPerStreamMs, ours.failures, fixed],
        ],
      ),
      data: { floor_batched: floor, ours, fixed_ms: fixed },
      budgets: [{ name: "failed one-token answers", value: floor.failures + ours.failures, limit: 0 }],
    };
  } finally {
    await Promise.all(Object.values(contenders).map((contender) => contender.stop()));
  }
}
