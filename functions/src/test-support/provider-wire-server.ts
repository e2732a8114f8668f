import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * A local HTTP server that speaks the providers' wire formats: Gemini `:streamGenerateContent?alt=sse`,
 * `:generateContent`, Veo `:predictLongRunning`, operations and file downloads, Gemini's Interactions API
 * (`POST /v1beta/interactions`, `GET /v1beta/interactions/{id}`), OpenAI's Chat Completions
 * (`POST {base}/chat/completions`, streamed) and Tavily `POST /search`. The real SDKs are pointed at it through their base-URL options, so
 * adapter tests exercise the SDK and our code together. Tests script answers per request kind, usually by
 * replaying a fixture file of the provider's answer (`wireFixtures` in `wire-fixtures.ts`); every request is
 * recorded.
 */

type WireKind =
  | "streamGenerateContent"
  | "generateContent"
  | "predictLongRunning"
  | "operation"
  | "download"
  | "createInteraction"
  | "getInteraction"
  | "chatCompletions"
  | "search";

interface RecordedRequest {
  readonly kind: WireKind | "unknown";
  readonly method: string;
  readonly path: string;
  readonly model: string | undefined;
  readonly headers: IncomingMessage["headers"];
  readonly body: unknown;
}

export type WireHandler = (request: RecordedRequest, response: ServerResponse) => void | Promise<void>;

function classify(method: string, path: string): { kind: WireKind | "unknown"; model: string | undefined } {
  const model = /\/models\/([^/:]+)/.exec(path)?.[1];
  if (method === "POST" && path.endsWith(":streamGenerateContent")) return { kind: "streamGenerateContent", model };
  if (method === "POST" && path.endsWith(":generateContent")) return { kind: "generateContent", model };
  if (method === "POST" && path.endsWith(":predictLongRunning")) return { kind: "predictLongRunning", model };
  if (method === "GET" && /\/operations\//.test(path)) return { kind: "operation", model };
  if (method === "GET" && /\/files\/[^/]+:download$/.test(path)) return { kind: "download", model };
  if (method === "POST" && path.endsWith("/interactions")) return { kind: "createInteraction", model };
  if (method === "GET" && /\/interactions\/[^/]+$/.test(path)) return { kind: "getInteraction", model };
  if (method === "POST" && path.endsWith("/chat/completions")) return { kind: "chatCompletions", model };
  if (method === "POST" && path.endsWith("/search")) return { kind: "search", model };
  return { kind: "unknown", model };
}

export class ProviderWireServer {
  readonly url: string;
  readonly requests: RecordedRequest[] = [];
  readonly #server: Server;
  readonly #queued = new Map<WireKind, WireHandler[]>();
  readonly #defaults = new Map<WireKind, WireHandler>();

  private constructor(server: Server, url: string) {
    this.#server = server;
    this.url = url;
  }

  static async start(): Promise<ProviderWireServer> {
    const holder: { instance?: ProviderWireServer } = {};
    const server = createServer((request, response) => void holder.instance?.handle(request, response));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (typeof address !== "object" || address === null) throw new Error("no address");
    holder.instance = new ProviderWireServer(server, `http://127.0.0.1:${String(address.port)}`);
    return holder.instance;
  }

  /** Answers the next request of this kind with `handler` (then falls back to the default). */
  next(kind: WireKind, handler: WireHandler): this {
    const queue = this.#queued.get(kind) ?? [];
    queue.push(handler);
    this.#queued.set(kind, queue);
    return this;
  }

  /** Answers every request of this kind that has no queued handler. */
  setDefault(kind: WireKind, handler: WireHandler): this {
    this.#defaults.set(kind, handler);
    return this;
  }

  /** Drops queued handlers and recorded requests (between tests). */
  reset(): void {
    this.#queued.clear();
    this.requests.length = 0;
  }

  count(kind: WireKind): number {
    return this.requests.filter((request) => request.kind === kind).length;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const url = new URL(request.url ?? "/", "http://localhost");
    const { kind, model } = classify(request.method ?? "GET", url.pathname);
    let body: unknown = raw;
    try {
      body = raw === "" ? undefined : JSON.parse(raw);
    } catch {
      // keep the raw text
    }
    const recorded: RecordedRequest = {
      kind,
      method: request.method ?? "GET",
      path: `${url.pathname}${url.search}`,
      model,
      headers: request.headers,
      body,
    };
    this.requests.push(recorded);
    const handler = kind === "unknown" ? undefined : (this.#queued.get(kind)?.shift() ?? this.#defaults.get(kind));
    if (handler === undefined) {
      jsonResponse(response, 404, {
        error: { code: 404, message: `No handler for ${recorded.path}`, status: "NOT_FOUND" },
      });
      return;
    }
    try {
      await handler(recorded, response);
    } catch (error) {
      if (!response.headersSent) jsonResponse(response, 500, { error: { code: 500, message: String(error) } });
      else response.destroy();
    }
  }
}

export function jsonResponse(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    "Content-Type": "application/json; charset=UTF-8",
    "Content-Length": Buffer.byteLength(text),
  });
  response.end(text);
}

/** Google's error body, e.g. `googleError(429, "RESOURCE_EXHAUSTED", "quota", "53s")`. */
export function googleError(code: number, status: string, message: string, retryDelay?: string): unknown {
  return {
    error: {
      code,
      message,
      status,
      ...(retryDelay === undefined
        ? {}
        : { details: [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay }] }),
    },
  };
}

/** Pacing of a scripted stream: `delayMs` between events; `stallAfter` events, then silence (connection open). */
interface StreamPacing {
  readonly delayMs?: number;
  readonly stallAfter?: number;
}

/** Writes server-sent events one by one, paced, then `last` (if any), and closes. */
async function streamEvents(
  response: ServerResponse,
  events: readonly string[],
  options: StreamPacing,
  last?: string,
): Promise<void> {
  response.writeHead(200, { "Content-Type": "text/event-stream" });
  for (const [index, event] of events.entries()) {
    if (options.stallAfter !== undefined && index >= options.stallAfter) {
      await once(response, "close");
      return;
    }
    if (response.destroyed) return;
    response.write(event);
    if (options.delayMs !== undefined && options.delayMs > 0) await sleep(options.delayMs);
  }
  if (last !== undefined) response.write(last);
  response.end();
}

/** Streams `chunks` as Gemini does: `data: <one-line JSON>` and a blank line each, then closes. */
export function streamChunks(
  response: ServerResponse,
  chunks: readonly unknown[],
  options: StreamPacing = {},
): Promise<void> {
  return streamEvents(
    response,
    chunks.map((chunk) => `data: ${JSON.stringify(chunk)}\r\n\r\n`),
    options,
  );
}

/** Gemini stream chunks carrying `pieces` of text, the last with a finish reason and usage. */
export function textChunks(
  pieces: readonly string[],
  options: { finishReason?: string; promptTokens?: number } = {},
): unknown[] {
  return pieces.map((text, index) => {
    const last = index === pieces.length - 1;
    return {
      candidates: [
        {
          content: { parts: [{ text }], role: "model" },
          ...(last ? { finishReason: options.finishReason ?? "STOP" } : {}),
          index: 0,
        },
      ],
      usageMetadata: {
        promptTokenCount: options.promptTokens ?? 7,
        ...(last
          ? { candidatesTokenCount: pieces.length, totalTokenCount: (options.promptTokens ?? 7) + pieces.length }
          : {}),
      },
      modelVersion: "gemini-3.8-flash",
      responseId: "wire-test",
    };
  });
}

/** The text of the last user turn in a Gemini request body. */
export function lastUserText(body: unknown): string {
  const contents = (body as { contents?: { role?: string; parts?: { text?: string }[] }[] }).contents ?? [];
  const last = [...contents].reverse().find((content) => content.role === "user");
  return last?.parts?.map((part) => part.text ?? "").join("") ?? "";
}

/** A default Gemini stream: echoes the question in `pieceCount` pieces, `delayMs` apart. */
export function echoStream(options: { pieceCount?: number; delayMs?: number } = {}): WireHandler {
  return async (request, response) => {
    const reply = `You said: ${lastUserText(request.body)}. That is all.`;
    const count = options.pieceCount ?? 6;
    const size = Math.ceil(reply.length / count);
    const pieces = Array.from({ length: count }, (_, index) => reply.slice(index * size, (index + 1) * size)).filter(
      (piece) => piece !== "",
    );
    await streamChunks(response, textChunks(pieces), { delayMs: options.delayMs ?? 0 });
  };
}

/** Chat Completions chunks: optional reasoning pieces, then the answer's pieces, a finish chunk and usage. */
export function openAiChunks(
  pieces: readonly string[],
  options: { reasoning?: readonly string[]; finishReason?: string; model?: string } = {},
): unknown[] {
  const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) => ({
    id: "chatcmpl-wire",
    object: "chat.completion.chunk",
    created: 1_764_633_600,
    model: options.model ?? "llama3.3",
    choices: [{ index: 0, delta, finish_reason: finishReason }],
    usage: null,
  });
  return [
    chunk({ role: "assistant", content: "" }),
    ...(options.reasoning ?? []).map((text) => chunk({ reasoning: text })),
    ...pieces.map((text) => chunk({ content: text })),
    chunk({}, options.finishReason ?? "stop"),
    {
      ...chunk({}),
      choices: [],
      usage: {
        prompt_tokens: 9,
        completion_tokens: pieces.length + (options.reasoning?.length ?? 0),
        total_tokens: 9 + pieces.length + (options.reasoning?.length ?? 0),
        completion_tokens_details: { reasoning_tokens: options.reasoning?.length ?? 0 },
      },
    },
  ];
}

/** Streams Chat Completions chunks as `data:` lines, then `data: [DONE]`, as OpenAI-compatible servers do. */
export function streamOpenAi(
  response: ServerResponse,
  chunks: readonly unknown[],
  options: StreamPacing = {},
): Promise<void> {
  return streamEvents(
    response,
    chunks.map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`),
    options,
    "data: [DONE]\n\n",
  );
}

/** An Interaction resource as the Interactions API returns it (`GET /v1beta/interactions/{id}`). */
export function interaction(id: string, status: string, extra: Record<string, unknown> = {}): unknown {
  const at = "2026-12-02T10:00:00Z";
  return { id, object: "interaction", status, model: "gemini-omni-1.1-flash", created: at, updated: at, ...extra };
}

/** The steps of a completed video interaction: the prompt, a thought, and the clip (inline or by URI). */
export function videoSteps(prompt: string, video: { data?: Buffer; uri?: string }): unknown[] {
  return [
    { type: "user_input", content: [{ type: "text", text: prompt }] },
    { type: "thought", signature: "c2lnbmF0dXJl" },
    {
      type: "model_output",
      content: [
        {
          type: "video",
          mime_type: "video/mp4",
          ...(video.data === undefined ? {} : { data: video.data.toString("base64") }),
          ...(video.uri === undefined ? {} : { uri: video.uri }),
        },
      ],
    },
  ];
}
