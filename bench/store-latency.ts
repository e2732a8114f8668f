import { randomUUID } from "node:crypto";
import type { BenchContext, BenchResult, Budget } from "./lib/bench-context.ts";
import { startContender, type Contender } from "./lib/contender.ts";
import { streamOnce } from "./lib/sse-load.ts";
import { median, percentile, round } from "./lib/stats.ts";
import { markdownTable } from "./lib/table.ts";

/**
 * Time to first token under production latency. In production every store operation is a round trip to
 * Firestore; the embedded store answers in microseconds and hides them. Our server runs twice, the same code:
 * on the plain embedded store, and with each read waiting `READ_MS` and each write or commit `WRITE_MS`. The
 * simulated provider answers its first token at once, so the time to first token is all ours. At one stream
 * the server also reports how many round trips the request made, in sequence, before it called the model.
 */
const READ_MS = 8;
const WRITE_MS = 15;
const TOKENS = 50;

export async function storeLatency(context: BenchContext): Promise<BenchResult> {
  const concurrencies = [1, 10, 100];
  const rounds = context.quick ? 1 : 3;
  const environment = { BENCH_TOKENS: String(TOKENS), BENCH_TOKEN_DELAY_MS: "0" };
  const contenders: Record<string, Contender> = {
    plain: await startContender("ours", { ...environment, ...context.oursEnvironment() }),
    latency: await startContender("ours", {
      ...environment,
      ...context.oursEnvironment(),
      BENCH_STORE_READ_MS: String(READ_MS),
      BENCH_STORE_WRITE_MS: String(WRITE_MS),
    }),
  };
  const ask = (contender: Contender, index: number, chatId?: string) =>
    streamOnce({
      url: `${contender.url}/chat/stream`,
      headers: { Authorization: `Bearer ${context.idToken(index)}` },
      body: {
        message: "How fast is the first token?",
        request_id: `latency-${randomUUID()}`,
        ...(chatId === undefined ? {} : { chat_id: chatId }),
      },
    });
  const measure = async (kind: string, concurrency: number) => {
    const contender = contenders[kind];
    if (contender === undefined) throw new Error(kind);
    const outcomes = await Promise.all(Array.from({ length: concurrency }, (_, index) => ask(contender, index)));
    const firstTokens = outcomes.map((outcome) => outcome.firstTokenMs);
    return {
      p50: percentile(firstTokens, 0.5),
      p99: percentile(firstTokens, 0.99),
      failures: outcomes.filter((outcome) => !outcome.ok).length,
      roundTrips: concurrency === 1 ? ((await contender.stats()).roundTripsBeforeProvider ?? 0) : Number.NaN,
    };
  };
  /** A second turn in a chat: its history is read too, in parallel with the start transaction. */
  const followUp = async () => {
    const contender = contenders.latency;
    if (contender === undefined) throw new Error("latency");
    const first = await ask(contender, 0);
    const second = await ask(contender, 0, first.chatId);
    return {
      firstToken: second.firstTokenMs,
      ok: first.ok && second.ok,
      roundTrips: (await contender.stats()).roundTripsBeforeProvider ?? 0,
    };
  };
  try {
    for (const kind of Object.keys(contenders)) await measure(kind, 1);
    const followUps = [];
    for (let roundIndex = 0; roundIndex < rounds; roundIndex++) followUps.push(await followUp());
    const samples: Record<string, Record<number, Awaited<ReturnType<typeof measure>>[]>> = {};
    for (let roundIndex = 0; roundIndex < rounds; roundIndex++) {
      for (const concurrency of concurrencies) {
        for (const kind of Object.keys(contenders)) {
          const byKind = (samples[kind] ??= {});
          (byKind[concurrency] ??= []).push(await measure(kind, concurrency));
        }
      }
    }
    const rows: (string | number)[][] = [];
    const data: Record<string, unknown> = {};
    const budgets: Budget[] = [];
    for (const concurrency of concurrencies) {
      const pick = (kind: string) => {
        const list = samples[kind]?.[concurrency] ?? [];
        return {
          p50: round(median(list.map((sample) => sample.p50))),
          p99: round(median(list.map((sample) => sample.p99))),
          failures: list.reduce((sum, sample) => sum + sample.failures, 0),
          roundTrips: median(list.map((sample) => sample.roundTrips)),
        };
      };
      const plain = pick("plain");
      const latency = pick("latency");
      const added = round(latency.p50 - plain.p50);
      rows.push(
        [concurrency, "embedded store", plain.p50, plain.p99, "", "", plain.failures],
        [
          concurrency,
          `+${String(READ_MS)} ms a read, +${String(WRITE_MS)} ms a write`,
          latency.p50,
          latency.p99,
          added,
          Number.isNaN(latency.roundTrips) ? "" : latency.roundTrips,
          latency.failures,
        ],
      );
      data[`concurrency_${String(concurrency)}`] = { plain, latency, added_by_store_p50_ms: added };
      budgets.push({
        name: `failed streams, ${String(concurrency)} streams`,
        value: plain.failures + latency.failures,
        limit: 0,
      });
      if (concurrency === 1) {
        budgets.push({ name: "round trips before the model is called, 1 stream", value: latency.roundTrips, limit: 2 });
      }
    }
    const followUpRoundTrips = median(followUps.map((sample) => sample.roundTrips));
    rows.push([
      "1, a second turn in a chat",
      `+${String(READ_MS)} ms a read, +${String(WRITE_MS)} ms a write`,
      round(median(followUps.map((sample) => sample.firstToken))),
      "",
      "",
      followUpRoundTrips,
      followUps.filter((sample) => !sample.ok).length,
    ]);
    data.follow_up = { first_token_p50_ms: rows.at(-1)?.[2], round_trips: followUpRoundTrips };
    budgets.push({
      name: "round trips before the model is called, a second turn in a chat",
      value: followUpRoundTrips,
      limit: 2,
    });
    return {
      title: `Time to first token under store latency (${String(TOKENS)} tokens, zero-delay provider; medians of ${String(rounds)} rounds)`,
      table: markdownTable(
        [
          "streams",
          "store",
          "first token p50 ms",
          "first token p99 ms",
          "added by the store, p50 ms",
          "round trips before the model",
          "failed",
        ],
        rows,
      ),
      data,
      budgets,
      notes: [
        "The provider's own first-token time is zero here: every millisecond is ours (store round trips and CPU).",
      ],
    };
  } finally {
    for (const contender of Object.values(contenders)) await contender.stop();
  }
}
