import { parseSse } from "../contract/sse-parser.ts";

/**
 * A real Server-Sent Events client for tests (the parser is the smoke scripts' own): it keeps every event with
 * the time it arrived, waits for events, and can hang up part-way to test disconnects.
 */
interface ReceivedEvent {
  readonly event: string;
  readonly data: string;
  readonly id: string | undefined;
  readonly at: number;
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- callers name the shape they expect
  json<T = Record<string, unknown>>(): T;
}

export interface SseSession {
  readonly status: number;
  readonly headers: Headers;
  readonly events: ReceivedEvent[];
  readonly comments: string[];
  /** Resolves when the server ends the stream (or we hang up). */
  readonly finished: Promise<void>;
  /** Resolves once an event matching `predicate` has arrived. */
  waitFor(predicate: (event: ReceivedEvent) => boolean, timeoutMs?: number): Promise<ReceivedEvent>;
  /** Hangs up, as a closed browser tab would. */
  disconnect(): void;
  /** The JSON body of a non-stream answer (errors before the stream started). */
  readonly errorBody: Record<string, unknown> | undefined;
  /** The concatenated `token` texts. */
  text(): string;
}

export async function openSse(url: string, init: RequestInit = {}): Promise<SseSession> {
  const controller = new AbortController();
  const response = await fetch(url, { ...init, signal: controller.signal });
  const events: ReceivedEvent[] = [];
  const comments: string[] = [];
  const waiters: { predicate: (event: ReceivedEvent) => boolean; resolve: (event: ReceivedEvent) => void }[] = [];
  const contentType = response.headers.get("content-type") ?? "";
  let errorBody: Record<string, unknown> | undefined;

  const deliver = (event: ReceivedEvent) => {
    events.push(event);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(event)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    }
  };

  let finished: Promise<void>;
  if (!contentType.startsWith("text/event-stream")) {
    errorBody = (await response.json()) as Record<string, unknown>;
    finished = Promise.resolve();
  } else {
    finished = (async () => {
      if (response.body === null) return;
      try {
        await parseSse(response.body, {
          onEvent: ({ event, data, id }) =>
            // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- as above
            deliver({ event, data, id, at: Date.now(), json: <T>() => JSON.parse(data) as T }),
          onComment: (text) => comments.push(text),
        });
      } catch {
        // hung up by us, or the connection dropped
      }
    })();
  }

  return {
    status: response.status,
    headers: response.headers,
    events,
    comments,
    finished,
    errorBody,
    waitFor: (predicate, timeoutMs = 10_000) => {
      const found = events.find(predicate);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(
            new Error(`no matching event within ${timeoutMs} ms; got ${events.map((event) => event.event).join(",")}`),
          );
        }, timeoutMs);
        waiters.push({
          predicate,
          resolve: (event) => {
            clearTimeout(timer);
            resolve(event);
          },
        });
      });
    },
    disconnect: () => controller.abort(),
    text: () =>
      events
        .filter((event) => event.event === "token")
        .map((event) => event.json<{ text: string }>().text)
        .join(""),
  };
}
