import { randomUUID } from "node:crypto";
import type { BenchContext, BenchResult, Budget } from "./lib/bench-context.ts";
import { startContender } from "./lib/contender.ts";
import { streamOnce, type StreamOutcome } from "./lib/sse-load.ts";
import { round } from "./lib/stats.ts";
import { markdownTable } from "./lib/table.ts";

/**
 * Concurrency and memory: hold 100, then 1,000 streams open at once on one `api` process (a slow provider: one
 * token a second, heartbeats every second, every stream persisted on its own), with real SSE clients on
 * loopback. Reports failed streams, resident memory per open stream, the server's event-loop delay while they
 * are open, and how many clients saw no gap longer than 1.5 heartbeats.
 */
const RAMP_BATCH = 50;
const RAMP_PAUSE_MS = 150;
const HOLD_MS = 8_000;

export async function concurrency(context: BenchContext): Promise<BenchResult> {
  const levels = context.quick ? [100] : [100, 1000];
  const rows: (string | number)[][] = [];
  const data: Record<string, unknown> = {};
  const budgets: Budget[] = [];
  for (const level of levels) {
    const contender = await startContender("ours", {
      ...context.oursEnvironment({ SSE_HEARTBEAT_SECONDS: "1", DISCONNECT_GRACE_SECONDS: "0" }),
      BENCH_TOKENS: "100000",
      BENCH_TOKEN_DELAY_MS: "1000",
    });
    try {
      const request = (index: number, holdMs: number) => ({
        url: `${contender.url}/chat/stream`,
        headers: { Authorization: `Bearer ${context.idToken(index)}` },
        body: { message: "Hold this stream open.", request_id: `hold-${randomUUID()}` },
        holdMs,
      });
      await Promise.all(Array.from({ length: 5 }, (_, index) => streamOnce(request(index, 1_000))));
      await new Promise((resolve) => setTimeout(resolve, 500));
      await contender.reset();
      const baseline = await contender.stats();

      const releaseAt = performance.now() + Math.ceil(level / RAMP_BATCH) * RAMP_PAUSE_MS + 2_000 + HOLD_MS;
      const streams: Promise<StreamOutcome>[] = [];
      for (let index = 0; index < level; index += RAMP_BATCH) {
        for (let offset = 0; offset < RAMP_BATCH && index + offset < level; offset++) {
          streams.push(streamOnce(request(index + offset, releaseAt - performance.now())));
        }
        await new Promise((resolve) => setTimeout(resolve, RAMP_PAUSE_MS));
      }
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      await contender.reset();
      await new Promise((resolve) => setTimeout(resolve, HOLD_MS - 500));
      const held = await contender.stats();
      const outcomes = await Promise.all(streams);
      const failed = outcomes.filter((outcome) => !outcome.ok).length;
      const heartbeatsOnTime = outcomes.filter((outcome) => outcome.ok && outcome.longestGapMs <= 1_500).length;
      const rssPerStreamKiB = round((held.rssBytes - baseline.rssBytes) / level / 1024, 1);
      const eventLoopP99Ms = round(held.eventLoopP99Ms, 1);
      rows.push([
        level,
        failed,
        rssPerStreamKiB,
        eventLoopP99Ms,
        round(held.eventLoopMaxMs, 1),
        `${String(heartbeatsOnTime)}/${String(level)}`,
      ]);
      data[`streams_${String(level)}`] = {
        failed,
        rss_per_stream_kib: rssPerStreamKiB,
        rss_baseline_mib: round(baseline.rssBytes / 2 ** 20, 1),
        rss_held_mib: round(held.rssBytes / 2 ** 20, 1),
        event_loop_p99_ms: eventLoopP99Ms,
        event_loop_max_ms: round(held.eventLoopMaxMs, 1),
        heartbeats_on_time: heartbeatsOnTime,
        errors: [...new Set(outcomes.flatMap((outcome) => (outcome.error === undefined ? [] : [outcome.error])))].slice(
          0,
          5,
        ),
      };
      budgets.push({ name: `failed streams with ${String(level)} open`, value: failed, limit: 0 });
      budgets.push({ name: `heartbeats late with ${String(level)} open`, value: level - heartbeatsOnTime, limit: 0 });
      if (level >= 1000) {
        budgets.push({ name: "RSS per open stream (KiB) with 1000 open", value: rssPerStreamKiB, limit: 40 });
        budgets.push({ name: "event-loop delay p99 (ms) with 1000 open", value: eventLoopP99Ms, limit: 50 });
      }
    } finally {
      await contender.stop();
    }
  }
  return {
    title: "2. Concurrency and memory (streams held open on one api process; 1 token/s, heartbeat 1 s)",
    table: markdownTable(
      ["open streams", "failed", "RSS KiB / stream", "event loop p99 ms", "event loop max ms", "heartbeats on time"],
      rows,
    ),
    data,
    budgets,
  };
}
