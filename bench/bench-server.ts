/**
 * A benchmark contender in a process of its own, so its CPU time, memory and event-loop delay are its alone:
 *
 * - `ours`: the real `api` handler (auth, validation, limits, idempotency, persistence in embedded SQLite) served by
 *   plain `node:http`, as the Functions Framework serves it;
 * - `floor`: a bare `node:http` SSE relay of the same tokens, with no auth and no persistence;
 * - `peer`: the Vercel AI SDK's `streamText` over a mock model emitting the same tokens, relayed as its UI message
 *   stream through `node:http`;
 * - `genkit`: a Genkit streaming flow over a Genkit model emitting the same tokens, served by Genkit's Express
 *   handler (see `peers/genkit-peer.ts`).
 *
 * All of them stream the same token source: the simulated text provider with a fixed token count and delay.
 * `GET /__bench/stats` reports process CPU time, memory and event-loop delay; `POST /__bench/reset` restarts the
 * delay histogram. Prints `listening <url>` when ready.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { LanguageModelV4StreamPart } from "@ai-sdk/provider";
import { SimulatedTextProvider } from "../functions/src/providers/simulated/simulated-text-provider.ts";
import type { TextProvider } from "../functions/src/providers/text-provider.ts";
import { genkitHandler } from "./peers/genkit-peer.ts";
import { LatencyDatabase } from "../functions/src/test-support/latency-database.ts";

const kind = process.env.BENCH_KIND ?? "ours";
const tokens = Number(process.env.BENCH_TOKENS ?? "1000");
const tokenDelayMs = Number(process.env.BENCH_TOKEN_DELAY_MS ?? "0");
const provider = new SimulatedTextProvider({ tokenDelayMs, fixedTokens: tokens });
const delay = monitorEventLoopDelay({ resolution: 5 });
delay.enable();

type Handler = (request: IncomingMessage, response: ServerResponse) => Promise<void> | void;

async function readBody(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return chunks.length === 0 ? {} : (JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>);
}

/**
 * The floor: what relaying these tokens as SSE costs with nothing else around it. `batched` writes the events
 * of one tick together, as our SSE writer does; the plain floor writes each event as it comes.
 */
const floor =
  (batched: boolean): Handler =>
  async (request, response) => {
    const body = await readBody(request);
    response.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
    let pending = "";
    const write = (frame: string) => {
      if (!batched) {
        response.write(frame);
        return;
      }
      if (pending === "") {
        process.nextTick(() => {
          // end() may have taken the pending events already.
          if (pending === "") return;
          response.write(pending);
          pending = "";
        });
      }
      pending += frame;
    };
    write(`id: 0\nevent: meta\ndata: ${JSON.stringify({ message_id: "m", resumed: false })}\n\n`);
    let offset = 0;
    const signal = new AbortController().signal;
    for await (const event of provider.stream({
      model: "m",
      systemInstruction: "",
      contents: [{ role: "user", text: typeof body.message === "string" ? body.message : "" }],
      signal,
    })) {
      if (event.type !== "text") continue;
      offset += event.text.length;
      write(`id: ${String(offset)}\nevent: token\ndata: ${JSON.stringify({ text: event.text })}\n\n`);
    }
    response.end(`${pending}id: ${String(offset)}\nevent: done\ndata: ${JSON.stringify({ status: "done" })}\n\n`);
    pending = "";
  };

async function peerHandler(): Promise<Handler> {
  const { pipeUIMessageStreamToResponse, streamText, toUIMessageStream } = await import("ai");
  const { MockLanguageModelV4 } = await import("ai/test");
  const model = new MockLanguageModelV4({
    doStream: () => {
      const answer = provider.stream({
        model: "m",
        systemInstruction: "",
        contents: [{ role: "user", text: "hi" }],
        signal: new AbortController().signal,
      });
      const iterator = answer[Symbol.asyncIterator]();
      let started = false;
      const stream = new ReadableStream<LanguageModelV4StreamPart>({
        async pull(controller) {
          if (!started) {
            started = true;
            controller.enqueue({ type: "stream-start", warnings: [] });
            controller.enqueue({ type: "text-start", id: "t" });
            return;
          }
          const next = await iterator.next();
          if (next.done === true) {
            controller.close();
            return;
          }
          const event = next.value;
          if (event.type === "text") controller.enqueue({ type: "text-delta", id: "t", delta: event.text });
          else if (event.type === "finish") {
            controller.enqueue({ type: "text-end", id: "t" });
            controller.enqueue({
              type: "finish",
              finishReason: { unified: "stop", raw: "STOP" },
              usage: {
                inputTokens: {
                  total: event.usage?.inputTokens,
                  noCache: undefined,
                  cacheRead: undefined,
                  cacheWrite: undefined,
                },
                outputTokens: { total: event.usage?.outputTokens, text: undefined, reasoning: undefined },
              },
            });
          }
        },
      });
      return Promise.resolve({ stream });
    },
  });
  return async (request, response) => {
    const body = await readBody(request);
    const result = streamText({ model, prompt: typeof body.message === "string" ? body.message : "" });
    await pipeUIMessageStreamToResponse({ response, stream: toUIMessageStream({ stream: result.stream }) });
  };
}

/**
 * With `BENCH_STORE_READ_MS` / `BENCH_STORE_WRITE_MS`, the store waits as Firestore's round trips would, and the
 * stats tell how many round trips the last chat request waited for, one after another, before the model was called.
 */
const storeLatency =
  process.env.BENCH_STORE_READ_MS === undefined
    ? undefined
    : { readMs: Number(process.env.BENCH_STORE_READ_MS), writeMs: Number(process.env.BENCH_STORE_WRITE_MS ?? "0") };
let latencyDatabase: LatencyDatabase | undefined;
let requestArrivedAt = 0;
let roundTripsBeforeProvider = 0;

async function oursHandler(): Promise<Handler> {
  const { loadRuntimeConfig } = await import("../functions/src/config/runtime-config.ts");
  const { createServices } = await import("../functions/src/runtime/services.ts");
  const { createApi } = await import("../functions/src/runtime/api.ts");
  const counted: TextProvider = {
    run: provider.run,
    stream: (request) => {
      roundTripsBeforeProvider = latencyDatabase?.sequentialRoundTrips(requestArrivedAt, performance.now()) ?? 0;
      return provider.stream(request);
    },
  };
  const services = await createServices(loadRuntimeConfig(process.env), {
    textProvider: counted,
    logSink: () => undefined,
    ...(storeLatency === undefined
      ? {}
      : { wrapDatabase: (database) => (latencyDatabase = new LatencyDatabase(database, storeLatency)) }),
  });
  const api = createApi(services);
  return (request, response) => {
    if (request.method === "POST" && request.url === "/chat/stream") requestArrivedAt = performance.now();
    return api(request, response);
  };
}

const handler: Handler =
  kind === "floor"
    ? floor(false)
    : kind === "floor-batched"
      ? floor(true)
      : kind === "peer"
        ? await peerHandler()
        : kind === "genkit"
          ? await genkitHandler(provider)
          : await oursHandler();

const server = createServer((request, response) => {
  if (request.url?.startsWith("/__bench/stats") === true) {
    const cpu = process.cpuUsage();
    const eventLoopP99Ms = delay.percentile(99) / 1e6;
    const eventLoopMaxMs = delay.max / 1e6;
    // `?collect=1`: memory as retained, after a full collection (read after the CPU and event-loop figures).
    if (request.url.endsWith("?collect=1")) (globalThis as { gc?: () => void }).gc?.();
    const memory = process.memoryUsage();
    response.writeHead(200, { "Content-Type": "application/json" });
    response.end(
      JSON.stringify({
        cpuMs: (cpu.user + cpu.system) / 1000,
        rssBytes: memory.rss,
        heapUsedBytes: memory.heapUsed,
        eventLoopP99Ms,
        eventLoopMaxMs,
        roundTripsBeforeProvider,
      }),
    );
    return;
  }
  if (request.url === "/__bench/exit") {
    // A clean exit lets `--cpu-prof` write its profile.
    response.writeHead(204).end(() => process.exit(0));
    return;
  }
  if (request.url === "/__bench/reset") {
    const collect = (globalThis as { gc?: () => void }).gc;
    collect?.();
    delay.reset();
    response.writeHead(204).end();
    return;
  }
  void handler(request, response);
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  if (typeof address === "object" && address !== null)
    process.stdout.write(`listening http://127.0.0.1:${String(address.port)}\n`);
});
