import { randomUUID } from "node:crypto";
import type { BenchContext, BenchResult, Budget } from "./lib/bench-context.ts";
import { installGenkitPeer } from "./peers/genkit-peer.ts";
import { startContender, type Contender } from "./lib/contender.ts";
import { streamOnce } from "./lib/sse-load.ts";
import { median, percentile, round } from "./lib/stats.ts";
import { markdownTable } from "./lib/table.ts";

/**
 * Streaming relay cost: the same 1,000 tokens (zero delay) relayed by our `api` handler, by a bare SSE relay
 * (the floor), by the same relay writing a tick's events together as our SSE writer does (the batched floor,
 * which isolates the cost of our application logic), by the Vercel AI SDK (the peer) and by a Genkit streaming
 * flow (the Firebase-native peer), at 1, 10 and 100 concurrent streams. CPU time is the serving process's own; rounds are interleaved across contenders and
 * summarised by their median.
 */
const TOKENS = 1000;

interface RoundMeasure {
  readonly cpuPerThousandTokensMs: number;
  readonly firstEventP50Ms: number;
  readonly firstEventP99Ms: number;
  readonly doneP50Ms: number;
  readonly failures: number;
}

export async function streamingRelay(context: BenchContext): Promise<BenchResult> {
  const concurrencies = [1, 10, 100];
  const rounds = context.quick ? 1 : 3;
  const environment = { BENCH_TOKENS: String(TOKENS), BENCH_TOKEN_DELAY_MS: "0" };
  installGenkitPeer();
  const contenders: Record<string, Contender> = {
    floor: await startContender("floor", environment),
    "floor-batched": await startContender("floor-batched", environment),
    peer: await startContender("peer", environment),
    genkit: await startContender("genkit", environment),
    ours: await startContender("ours", { ...environment, ...context.oursEnvironment() }),
    // The same server with no trace recorded: the per-token cost of tracing is the difference.
    "ours-untraced": await startContender("ours", {
      ...environment,
      ...context.oursEnvironment(),
      TRACE_SAMPLE_RATIO: "0",
    }),
  };
  const message = "Relay a long answer, please.";
  const request = (kind: string, index: number) =>
    kind === "genkit"
      ? {
          url: `${contenders.genkit?.url ?? ""}/chat?stream=true`,
          headers: { Accept: "text/event-stream" },
          body: { data: { message } },
        }
      : {
          url: `${contenders[kind]?.url ?? ""}${kind === "peer" ? "/api/chat" : "/chat/stream"}`,
          headers: (kind.startsWith("ours") ? { Authorization: `Bearer ${context.idToken(index)}` } : {}) as Record<
            string,
            string
          >,
          body: { message, request_id: `bench-${randomUUID()}` },
        };

  async function measure(kind: string, concurrency: number): Promise<RoundMeasure> {
    const contender = contenders[kind];
    if (contender === undefined) throw new Error(kind);
    await contender.reset();
    const before = await contender.stats();
    const outcomes = await Promise.all(
      Array.from({ length: concurrency }, (_, index) => streamOnce(request(kind, index))),
    );
    const after = await contender.stats();
    const tokens = outcomes.reduce((sum, outcome) => sum + outcome.tokens, 0);
    return {
      cpuPerThousandTokensMs: (after.cpuMs - before.cpuMs) / (tokens / 1000),
      firstEventP50Ms: percentile(
        outcomes.map((outcome) => outcome.firstEventMs),
        0.5,
      ),
      firstEventP99Ms: percentile(
        outcomes.map((outcome) => outcome.firstEventMs),
        0.99,
      ),
      doneP50Ms: percentile(
        outcomes.map((outcome) => outcome.doneMs),
        0.5,
      ),
      failures: outcomes.filter((outcome) => !outcome.ok || outcome.tokens !== TOKENS).length,
    };
  }

  try {
    for (const kind of Object.keys(contenders)) await measure(kind, 10);
    const kinds = ["floor", "floor-batched", "peer", "genkit", "ours", "ours-untraced"];
    const measured: Record<string, Record<number, RoundMeasure[]>> = {};
    for (let roundIndex = 0; roundIndex < rounds; roundIndex++) {
      for (const concurrency of concurrencies) {
        for (const kind of kinds) {
          const byKind = measured[kind] ?? {};
          (byKind[concurrency] ??= []).push(await measure(kind, concurrency));
          measured[kind] = byKind;
        }
      }
    }
    const summary = (kind: string, concurrency: number) => {
      const samples = measured[kind]?.[concurrency] ?? [];
      const pick = (key: keyof RoundMeasure) => median(samples.map((sample) => sample[key]));
      return {
        cpuPerThousandTokensMs: round(pick("cpuPerThousandTokensMs")),
        firstEventP50Ms: round(pick("firstEventP50Ms")),
        firstEventP99Ms: round(pick("firstEventP99Ms")),
        doneP50Ms: round(pick("doneP50Ms")),
        failures: samples.reduce((sum, sample) => sum + sample.failures, 0),
      };
    };
    const rows: (string | number)[][] = [];
    const data: Record<string, unknown> = {};
    const budgets: Budget[] = [];
    for (const concurrency of concurrencies) {
      const floor = summary("floor", concurrency);
      const batched = summary("floor-batched", concurrency);
      const peer = summary("peer", concurrency);
      const genkit = summary("genkit", concurrency);
      const ours = summary("ours", concurrency);
      const untraced = summary("ours-untraced", concurrency);
      const tracing = round(ours.cpuPerThousandTokensMs / untraced.cpuPerThousandTokensMs);
      const versusFloor = round(ours.cpuPerThousandTokensMs / floor.cpuPerThousandTokensMs);
      const versusBatched = round(ours.cpuPerThousandTokensMs / batched.cpuPerThousandTokensMs);
      const versusPeer = round(ours.cpuPerThousandTokensMs / peer.cpuPerThousandTokensMs);
      const versusGenkit = round(ours.cpuPerThousandTokensMs / genkit.cpuPerThousandTokensMs);
      for (const [kind, value] of [
        ["floor", floor],
        ["floor, batched per tick", batched],
        ["peer (AI SDK)", peer],
        ["peer (Genkit flow)", genkit],
        ["ours", ours],
        ["ours, tracing off", untraced],
      ] as const) {
        rows.push([
          concurrency,
          kind,
          value.cpuPerThousandTokensMs,
          value.firstEventP50Ms,
          value.firstEventP99Ms,
          value.doneP50Ms,
          value.failures,
          kind === "ours"
            ? `${String(versusFloor)} / ${String(versusBatched)} / ${String(versusPeer)} / ${String(versusGenkit)}`
            : kind === "ours, tracing off"
              ? `tracing on ÷ off: ${String(tracing)}`
              : "",
        ]);
      }
      data[`concurrency_${String(concurrency)}`] = {
        floor,
        floor_batched: batched,
        peer,
        ours,
        ours_over_floor: versusFloor,
        ours_over_floor_batched: versusBatched,
        ours_over_peer: versusPeer,
        genkit,
        ours_over_genkit: versusGenkit,
        ours_untraced: untraced,
        tracing_on_over_off: tracing,
      };
      budgets.push(
        { name: `CPU per token, ours/floor, ${String(concurrency)} streams`, value: versusFloor, limit: 1.5 },
        { name: `CPU per token, ours/peer, ${String(concurrency)} streams`, value: versusPeer, limit: 1.0 },
        { name: `CPU per token, ours/Genkit, ${String(concurrency)} streams`, value: versusGenkit, limit: 1.0 },
        {
          name: `failed streams, ${String(concurrency)} streams`,
          value: floor.failures + peer.failures + genkit.failures + ours.failures + untraced.failures,
          limit: 0,
        },
      );
    }
    return {
      title: `1. Streaming relay cost (${String(TOKENS)} tokens per stream, zero delay; medians of ${String(rounds)} rounds)`,
      table: markdownTable(
        [
          "streams",
          "contender",
          "CPU ms / 1k tokens",
          "first event p50 ms",
          "first event p99 ms",
          "done p50 ms",
          "failed",
          "ours ÷ floor / ÷ batched floor / ÷ AI SDK / ÷ Genkit",
        ],
        rows,
      ),
      data,
      budgets,
    };
  } finally {
    await Promise.all(Object.values(contenders).map((contender) => contender.stop()));
  }
}
