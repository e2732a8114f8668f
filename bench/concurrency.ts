import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { BenchContext, BenchResult, Budget } from "./lib/bench-context.ts";
import { startContender, type ContenderKind, type ContenderStats } from "./lib/contender.ts";
import { streamOnce, type StreamOutcome } from "./lib/sse-load.ts";
import { percentile, round } from "./lib/stats.ts";
import { markdownTable } from "./lib/table.ts";
import { createMemoryCgroup, type MemoryCgroup } from "./lib/memory-cgroup.ts";

/**
 * Concurrency and memory: hold 100, then 1,000 streams open at once on one `api` process (a slow provider: one
 * token a second, heartbeats every second, every stream persisted on its own), with real SSE clients on
 * loopback. Reports failed streams, memory per open stream, the server's event-loop delay while they are open,
 * how many clients saw no gap longer than 1.5 heartbeats after their first event, and the first event's p99
 * while the streams ramp up (50 every 150 ms). The bare SSE relay (the floor) holds the same
 * number of streams in the same run, so memory per stream has a baseline: most of it is what Node itself keeps
 * per open HTTP response.
 *
 * Memory is read after a full garbage collection, so it is what each open stream retains, not garbage waiting
 * for the next collection.
 */
const RAMP_BATCH = 50;
const RAMP_PAUSE_MS = 150;
const HOLD_MS = 8_000;

interface Held {
  readonly outcomes: StreamOutcome[];
  readonly baseline: ContenderStats;
  readonly held: ContenderStats;
}

/** Opens `level` streams on a fresh contender, ramping up in batches, and reads its stats while they are open. */
async function holdStreams(
  context: BenchContext,
  kind: ContenderKind,
  level: number,
  nodeFlags: readonly string[],
  cgroup: MemoryCgroup | undefined,
): Promise<Held> {
  const contender = await startContender(
    kind,
    {
      ...(kind === "ours"
        ? context.oursEnvironment({ SSE_HEARTBEAT_SECONDS: "1", DISCONNECT_GRACE_SECONDS: "0" })
        : {}),
      BENCH_TOKENS: "100000",
      BENCH_TOKEN_DELAY_MS: "1000",
    },
    nodeFlags,
    cgroup,
  );
  try {
    const request = (index: number, holdMs: number) => ({
      url: `${contender.url}/chat/stream`,
      headers: { Authorization: `Bearer ${context.idToken(index)}` },
      body: { message: "Hold this stream open.", request_id: `hold-${randomUUID()}` },
      holdMs,
    });
    // Warm up (module loading, first store writes) before the baseline.
    await Promise.all(Array.from({ length: 5 }, (_, index) => streamOnce(request(index, 1_000))));
    await sleep(500);
    await contender.reset();
    const baseline = await contender.stats({ collect: true });

    const releaseAt = performance.now() + Math.ceil(level / RAMP_BATCH) * RAMP_PAUSE_MS + 2_000 + HOLD_MS;
    const streams: Promise<StreamOutcome>[] = [];
    for (let index = 0; index < level; index += RAMP_BATCH) {
      for (let offset = 0; offset < RAMP_BATCH && index + offset < level; offset++) {
        streams.push(streamOnce(request(index + offset, releaseAt - performance.now())));
      }
      await sleep(RAMP_PAUSE_MS);
    }
    await sleep(2_000);
    await contender.reset();
    await sleep(HOLD_MS - 500);
    const held = await contender.stats({ collect: true });
    return { outcomes: await Promise.all(streams), baseline, held };
  } finally {
    await contender.stop();
  }
}

interface Setting {
  readonly level: number;
  /** Node flags of both contenders, shown in the table. */
  readonly nodeFlags: readonly string[];
  /** Both contenders confined to this much memory, as a Cloud Run instance is (see `memory-cgroup.ts`). */
  readonly memoryMiB?: number;
  /** Which of the repeated runs of a setting this is. */
  readonly run?: number;
}

/** The `api` function's memory (`functions/src/index.ts`). */
const DEPLOYED_MEMORY_MIB = 512;

/**
 * The last setting caps V8's young generation. By default V8 grows it to 3 x 16 MiB under this allocation rate
 * (on this machine's memory), which shows up as resident memory per stream for the bare floor too.
 */
const YOUNG_GENERATION_CAPPED = ["--max-semi-space-size=1"];

const perStreamKiB = (bytes: number, level: number) => round(bytes / level / 1024, 1);

export async function concurrency(context: BenchContext): Promise<BenchResult> {
  const settings: Setting[] = context.quick
    ? [{ level: 100, nodeFlags: [] }]
    : [
        { level: 100, nodeFlags: [] },
        // Three times: the first event's p99 while streams ramp up is the figure that moved between runs.
        { level: 1000, nodeFlags: [], run: 1 },
        { level: 1000, nodeFlags: [], run: 2 },
        { level: 1000, nodeFlags: [], run: 3 },
        { level: 1000, nodeFlags: [], memoryMiB: DEPLOYED_MEMORY_MIB },
        { level: 1000, nodeFlags: YOUNG_GENERATION_CAPPED },
      ];
  const rows: (string | number)[][] = [];
  const data: Record<string, unknown> = {};
  const budgets: Budget[] = [];
  const notes: string[] = [];
  const rampP99s: number[] = [];
  for (const { level, nodeFlags, memoryMiB, run } of settings) {
    const cgroup = memoryMiB === undefined ? undefined : createMemoryCgroup("atelier-bench", memoryMiB * 2 ** 20);
    if (memoryMiB !== undefined && cgroup === undefined) {
      notes.push(`Not run: ${String(level)} streams in ${String(memoryMiB)} MiB (no memory cgroup can be made here).`);
      continue;
    }
    const floor = await holdStreams(context, "floor", level, nodeFlags, cgroup);
    const ours = await holdStreams(context, "ours", level, nodeFlags, cgroup);
    cgroup?.remove();
    const label = [
      String(level),
      ...(run === undefined ? [] : [`run ${String(run)}`]),
      ...(memoryMiB === undefined ? [] : [`in ${String(memoryMiB)} MiB, as deployed`]),
      ...nodeFlags,
    ].join(", ");
    const key = `streams_${String(level)}${run === undefined ? "" : `_run_${String(run)}`}${memoryMiB === undefined ? "" : `_in_${String(memoryMiB)}_mib`}${nodeFlags.length === 0 ? "" : "_young_generation_capped"}`;
    const { outcomes, baseline, held } = ours;
    const failed = outcomes.filter((outcome) => !outcome.ok).length;
    const heartbeatsOnTime = outcomes.filter((outcome) => outcome.ok && outcome.longestGapMs <= 1_500).length;
    const rssPerStreamKiB = perStreamKiB(held.rssBytes - baseline.rssBytes, level);
    const heapPerStreamKiB = perStreamKiB(held.heapUsedBytes - baseline.heapUsedBytes, level);
    const floorRssPerStreamKiB = perStreamKiB(floor.held.rssBytes - floor.baseline.rssBytes, level);
    const floorHeapPerStreamKiB = perStreamKiB(floor.held.heapUsedBytes - floor.baseline.heapUsedBytes, level);
    const eventLoopP99Ms = round(held.eventLoopP99Ms, 1);
    const firstEventP99Ms = round(
      percentile(
        outcomes.map((outcome) => outcome.firstEventMs),
        0.99,
      ),
      1,
    );
    rows.push([
      label,
      failed,
      `${String(rssPerStreamKiB)} (floor ${String(floorRssPerStreamKiB)})`,
      `${String(heapPerStreamKiB)} (floor ${String(floorHeapPerStreamKiB)})`,
      eventLoopP99Ms,
      round(held.eventLoopMaxMs, 1),
      `${String(heartbeatsOnTime)}/${String(level)}`,
      firstEventP99Ms,
    ]);
    data[key] = {
      failed,
      rss_per_stream_kib: rssPerStreamKiB,
      heap_per_stream_kib: heapPerStreamKiB,
      floor_rss_per_stream_kib: floorRssPerStreamKiB,
      floor_heap_per_stream_kib: floorHeapPerStreamKiB,
      floor_failed: floor.outcomes.filter((outcome) => !outcome.ok).length,
      rss_baseline_mib: round(baseline.rssBytes / 2 ** 20, 1),
      rss_held_mib: round(held.rssBytes / 2 ** 20, 1),
      event_loop_p99_ms: eventLoopP99Ms,
      event_loop_max_ms: round(held.eventLoopMaxMs, 1),
      heartbeats_on_time: heartbeatsOnTime,
      first_event_p99_ms_while_ramping: firstEventP99Ms,
      errors: [...new Set(outcomes.flatMap((outcome) => (outcome.error === undefined ? [] : [outcome.error])))].slice(
        0,
        5,
      ),
    };
    if (run !== undefined) rampP99s.push(firstEventP99Ms);
    budgets.push({ name: `failed streams with ${label} open`, value: failed, limit: 0 });
    budgets.push({ name: `heartbeats late with ${label} open`, value: level - heartbeatsOnTime, limit: 0 });
    // Memory is held to its budget as deployed; the runs on this machine's 24 GiB show what V8 does unconfined.
    if (level >= 1000 && (memoryMiB !== undefined || nodeFlags.length > 0)) {
      budgets.push({ name: `RSS per open stream (KiB) with ${label} open`, value: rssPerStreamKiB, limit: 40 });
    }
    if (level >= 1000) {
      budgets.push({ name: `event-loop delay p99 (ms) with ${label} open`, value: eventLoopP99Ms, limit: 50 });
    }
  }
  if (rampP99s.length > 0) {
    budgets.push({
      name: `first event p99 (ms) while 1,000 streams ramp up, worst of ${String(rampP99s.length)} runs`,
      value: Math.max(...rampP99s),
      limit: 250,
    });
  }
  return {
    title: "2. Concurrency and memory (streams held open on one process; 1 token/s, heartbeat 1 s; after a full GC)",
    table: markdownTable(
      [
        "open streams",
        "failed",
        "RSS KiB / stream",
        "JS heap KiB / stream",
        "event loop p99 ms",
        "event loop max ms",
        "heartbeats on time",
        "first event p99 ms",
      ],
      rows,
    ),
    data,
    budgets,
    notes,
  };
}
