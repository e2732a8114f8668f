import { createServer, type Server } from "node:http";
import { randomUUID } from "node:crypto";
import { loadRuntimeConfig } from "../functions/src/config/runtime-config.ts";
import { createApi } from "../functions/src/runtime/api.ts";
import { SimulatedTextProvider } from "../functions/src/providers/simulated/simulated-text-provider.ts";
import type { TextGenerationRequest, TextProvider, TextStreamEvent } from "../functions/src/providers/text-provider.ts";
import { createServices } from "../functions/src/runtime/services.ts";
import { paths } from "../functions/src/store/paths.ts";
import { CountingDatabase } from "../functions/src/test-support/counting-database.ts";
import type { BenchContext, BenchResult } from "./lib/bench-context.ts";
import { markdownTable } from "./lib/table.ts";

/**
 * Persistence cost: store writes to the assistant message per streamed answer, at the default
 * `STREAM_UPDATE_INTERVAL_MS` (500), for 10, 100 and 1,000 tokens spread over about 0, 1 and 3 seconds. The budget
 * is `ceil(duration / interval) + 2` (creation and the final write), whatever the token count.
 */

/** Streams the token count and pacing named in the prompt ("tokens=100 delay=10"), from the simulated provider. */
class PacedProvider implements TextProvider {
  readonly run = "simulated" as const;
  stream(request: TextGenerationRequest): AsyncIterable<TextStreamEvent> {
    const prompt = request.contents.at(-1)?.text ?? "";
    const tokens = Number(/tokens=(\d+)/.exec(prompt)?.[1] ?? "10");
    const delay = Number(/delay=([\d.]+)/.exec(prompt)?.[1] ?? "0");
    return new SimulatedTextProvider({ tokenDelayMs: delay, fixedTokens: tokens }).stream(request);
  }
}

export async function persistence(context: BenchContext): Promise<BenchResult> {
  const intervalMs = 500;
  let counting: CountingDatabase | undefined;
  const config = loadRuntimeConfig(context.oursEnvironment({ STREAM_UPDATE_INTERVAL_MS: String(intervalMs) }));
  const services = await createServices(config, {
    textProvider: new PacedProvider(),
    logSink: () => undefined,
    wrapDatabase: (database) => (counting = new CountingDatabase(database)),
  });
  const api = createApi(services);
  const server: Server = createServer((request, response) => void api(request, response));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const url = typeof address === "object" && address !== null ? `http://127.0.0.1:${String(address.port)}` : "";
  const rows: (string | number)[][] = [];
  const cases: Record<string, unknown>[] = [];
  let largestExcess = Number.NEGATIVE_INFINITY;
  try {
    for (const targetMs of [0, 1_000, 3_000]) {
      for (const tokens of [10, 100, 1_000]) {
        const delay = targetMs / tokens;
        const session = await fetch(`${url}/chat/stream`, {
          method: "POST",
          headers: { Authorization: `Bearer ${context.idToken(0)}`, "Content-Type": "application/json" },
          body: JSON.stringify({
            message: `tokens=${String(tokens)} delay=${String(delay)}`,
            request_id: `persist-${randomUUID()}`,
          }),
        });
        const started = performance.now();
        const text = await session.text();
        const durationMs = performance.now() - started;
        const messageId = /"message_id":"([^"]+)"/.exec(text)?.[1] ?? "";
        const uid = (await services.verifier.verify(context.idToken(0))).uid;
        const writes = counting?.writesTo(paths.message(uid, messageId)) ?? Number.NaN;
        const budget = Math.ceil(durationMs / intervalMs) + 2;
        largestExcess = Math.max(largestExcess, writes - budget);
        rows.push([tokens, Math.round(durationMs), writes, budget, writes <= budget ? "ok" : "OVER"]);
        cases.push({ tokens, duration_ms: Math.round(durationMs), writes, budget });
      }
    }
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await services.close();
  }
  return {
    title: `3. Persistence cost (writes to the assistant message per answer, STREAM_UPDATE_INTERVAL_MS = ${String(intervalMs)})`,
    table: markdownTable(["tokens", "duration ms", "writes", "budget ceil(d/i)+2", ""], rows),
    data: { interval_ms: intervalMs, cases },
    budgets: [
      { name: "largest excess of writes over ceil(duration/interval)+2, any case", value: largestExcess, limit: 0 },
    ],
  };
}
