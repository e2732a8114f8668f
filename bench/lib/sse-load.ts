import { parseSse } from "../../functions/src/contract/sse-parser.ts";

/** What one streamed answer looked like from the client's side. */
export interface StreamOutcome {
  readonly ok: boolean;
  /** Milliseconds from the request to the first event (our `meta`; the peer's `start`). */
  readonly firstEventMs: number;
  /** Milliseconds from the request to the first token (NaN when none came). */
  readonly firstTokenMs: number;
  /** Milliseconds from the request to the end of the stream. */
  readonly doneMs: number;
  readonly tokens: number;
  /** Longest silence between two things received (events or heartbeat comments) after the first, in milliseconds. */
  readonly longestGapMs: number;
  /** The chat the answer went to (ours: from its `meta` event). */
  readonly chatId?: string;
  readonly error?: string;
}

export interface StreamRequest {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: unknown;
  /** Hang up after this long (long-lived streams in the concurrency benchmark). */
  readonly holdMs?: number;
}

/**
 * Streams one answer and measures it. Tokens are `token` events (ours, floor), `text-delta` data (the AI SDK)
 * or `{"message": ...}` data (Genkit); the end is `done`, `[DONE]` or `{"result": ...}`.
 */
export async function streamOnce(request: StreamRequest): Promise<StreamOutcome> {
  const started = performance.now();
  const controller = new AbortController();
  let firstEventMs = Number.NaN;
  let firstTokenMs = Number.NaN;
  let tokens = 0;
  let last = started;
  let longestGapMs = 0;
  let terminal = "";
  let chatId: string | undefined;
  // Gaps count from the first event on: the wait for the first one is `firstEventMs`, not a late heartbeat.
  const mark = () => {
    const now = performance.now();
    if (Number.isNaN(firstEventMs)) firstEventMs = now - started;
    else longestGapMs = Math.max(longestGapMs, now - last);
    last = now;
  };
  const timer = request.holdMs === undefined ? undefined : setTimeout(() => controller.abort(), request.holdMs);
  try {
    const response = await fetch(request.url, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...request.headers },
      body: JSON.stringify(request.body),
      signal: controller.signal,
    });
    if (!response.ok || response.body === null) {
      return {
        ok: false,
        firstEventMs,
        firstTokenMs,
        doneMs: performance.now() - started,
        tokens,
        longestGapMs,
        error: `HTTP ${String(response.status)}`,
      };
    }
    await parseSse(response.body, {
      onEvent: (event) => {
        mark();
        if (event.event === "meta") chatId = (JSON.parse(event.data) as { chat_id?: string }).chat_id;
        if (
          event.event === "token" ||
          event.data.includes('"type":"text-delta"') ||
          event.data.startsWith('{"message":')
        ) {
          if (tokens === 0) firstTokenMs = performance.now() - started;
          tokens += 1;
        }
        if (event.event === "done" || event.data === "[DONE]" || event.data.startsWith('{"result":')) terminal = "done";
        if (event.event === "error" || event.data.startsWith('{"error":')) terminal = "error";
      },
      onComment: mark,
    });
    return {
      ok: terminal === "done",
      firstEventMs,
      firstTokenMs,
      doneMs: performance.now() - started,
      tokens,
      longestGapMs,
      ...(chatId === undefined ? {} : { chatId }),
      ...(terminal === "done" ? {} : { error: `ended with ${terminal || "nothing"}` }),
    };
  } catch (error) {
    const held = controller.signal.aborted && request.holdMs !== undefined;
    return {
      ok: held && !Number.isNaN(firstEventMs),
      firstEventMs,
      firstTokenMs,
      doneMs: performance.now() - started,
      tokens,
      longestGapMs: Math.max(longestGapMs, performance.now() - last),
      ...(held ? {} : { error: error instanceof Error ? error.message : String(error) }),
    };
  } finally {
    clearTimeout(timer);
  }
}
