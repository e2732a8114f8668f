import { once } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ServerResponse } from "node:http";
import type { WireHandler } from "./provider-wire-server.ts";

/**
 * Wire fixtures: provider answers kept as files next to the tests, `__fixtures__/<name>.chunks.txt`, written from
 * the providers' documented wire formats and replayed by {@link ProviderWireServer} as written. A fixture reads
 * like a captured HTTP response:
 *
 * ```
 * # Comment lines (`#`) may open the file: what the answer is, where its shape comes from.
 * HTTP/1.1 200 OK
 * Content-Type: text/event-stream
 *
 * data: {"candidates":[{"content":{"parts":[{"text":"Hel"}],"role":"model"},"index":0}]}
 *
 * data: {"candidates":[{"content":{"parts":[{"text":"lo"}],"role":"model"},"finishReason":"STOP","index":0}]}
 *
 * ```
 *
 * - The **status line** (`HTTP/1.1 <code> [reason]`) comes first, then **headers** (`Name: value`), then a blank
 *   line, then the **body**, exactly as the provider sends it. `Content-Length` is added for a body sent in one
 *   piece; leave it out. Line breaks are sent as `\n` (a file saved with `\r\n` reads the same).
 * - A `text/event-stream` body is a list of events separated by blank lines (`data: <one-line JSON>`, also
 *   `data: [DONE]`); each event is written as its own chunk, followed by a blank line (the last one too, even
 *   when an editor trimmed it from the file). Any other body (JSON, an empty redirect) is written in one piece.
 * - **Marker lines** stand for what is not bytes: `<<stall>>` (nothing more is sent; the connection stays open
 *   until the client gives up) and `<<cut>>` (the connection drops: the socket is destroyed mid-response). Each
 *   ends the fixture: nothing may follow it.
 * - **Placeholders** `{{name}}` (in the head or the body, not in comments) are replaced by the test's
 *   `vars.name`, inserted as is (so a value inside a JSON string must need no escaping: ids, URLs, base64). A
 *   placeholder without a value, or a value without a placeholder, is an error.
 *
 * Pacing that a test is about (a slow stream, a slow server) is the test's: {@link ReplayOptions}.
 */

interface ReplayOptions {
  /** Values for the fixture's `{{placeholders}}`. */
  readonly vars?: Readonly<Record<string, string | number>>;
  /** Wait before answering at all (a server that takes too long). */
  readonly latencyMs?: number;
  /** Wait between chunks (a slow stream). */
  readonly delayMs?: number;
}

type Step = { readonly write: string } | { readonly marker: "stall" | "cut" };

/** A fixture file, parsed: the status, the headers and the chunks of the body. */
interface WireFixture {
  readonly name: string;
  readonly status: number;
  readonly reason: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  /** A `text/event-stream` body, sent event by event. */
  readonly eventStream: boolean;
  readonly steps: readonly Step[];
}

const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/;
const MARKER_LINE = /^<<(stall|cut)>>[ \t]*(?:\n|$)/m;

function substitute(name: string, text: string, vars: Readonly<Record<string, string | number>>): string {
  const used = new Set<string>();
  const result = text.replace(/\{\{\s*([\w-]+)\s*\}\}/g, (_, key: string) => {
    const value = vars[key];
    if (value === undefined) throw new Error(`Wire fixture ${name}: no value for {{${key}}}`);
    used.add(key);
    return String(value);
  });
  const unused = Object.keys(vars).filter((key) => !used.has(key));
  if (unused.length > 0) throw new Error(`Wire fixture ${name} has no {{${unused.join("}}, {{")}}}`);
  return result;
}

/** The events of an event-stream body (blank-line separated), each followed by its blank line. */
function eventsOf(text: string): string[] {
  return text
    .split(/\n\n+/)
    .map((event) => event.replace(/^\n+|\n+$/g, ""))
    .filter((event) => event.trim() !== "")
    .map((event) => `${event}\n\n`);
}

/** Parses the text of a fixture file, filling its placeholders from `vars`. */
function parseWireFixture(name: string, source: string, vars: ReplayOptions["vars"] = {}): WireFixture {
  const lines = source.split(/\r?\n/);
  let start = 0;
  while (start < lines.length && (lines[start]?.startsWith("#") === true || lines[start]?.trim() === "")) start++;
  const text = substitute(name, lines.slice(start).join("\n"), vars);
  const separator = /\n\n/.exec(text);
  const head = (separator === null ? text : text.slice(0, separator.index)).split("\n");
  const rawBody = separator === null ? "" : text.slice(separator.index + separator[0].length);

  const status = STATUS_LINE.exec(head[0] ?? "");
  if (status?.[1] === undefined)
    throw new Error(`Wire fixture ${name}: expected a status line, got "${head[0] ?? ""}"`);
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    if (line.trim() === "") continue; // a head with no body, its closing blank line trimmed by an editor
    const colon = line.indexOf(":");
    if (colon <= 0) throw new Error(`Wire fixture ${name}: bad header line "${line}"`);
    headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  const eventStream = Object.entries(headers).some(
    ([header, value]) => header.toLowerCase() === "content-type" && value.startsWith("text/event-stream"),
  );

  // The body's bytes, cut at marker lines: [text, marker, text, marker, ...].
  const segments = rawBody.split(MARKER_LINE);
  const steps: Step[] = [];
  for (const [index, segment] of segments.entries()) {
    if (index % 2 === 1) {
      steps.push({ marker: segment as "stall" | "cut" });
      continue;
    }
    if (index > 0 && segment.trim() !== "") {
      throw new Error(`Wire fixture ${name}: nothing may follow <<${segments[index - 1] ?? ""}>>`);
    }
    if (eventStream) steps.push(...eventsOf(segment).map((write) => ({ write })));
    else if (segment !== "") steps.push({ write: segment });
  }
  return { name, status: Number(status[1]), reason: status[2], headers, eventStream, steps };
}

/** Reads and parses `directory/__fixtures__/<name>.chunks.txt`. */
function loadWireFixture(directory: string, name: string, vars?: ReplayOptions["vars"]): WireFixture {
  const path = join(directory, "__fixtures__", `${name}.chunks.txt`);
  return parseWireFixture(name, readFileSync(path, "utf8"), vars);
}

/** Waits `milliseconds`, or less if the client goes away first. */
function pause(response: ServerResponse, milliseconds: number): Promise<void> {
  if (milliseconds <= 0 || response.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      response.off("close", done);
      resolve();
    };
    const timer = setTimeout(done, milliseconds);
    response.once("close", done);
  });
}

/** Whether the client went away (a function: the answer changes across the awaits that TypeScript narrows over). */
const gone = (response: ServerResponse): boolean => response.destroyed;

/** Writes a chunk and waits until it is handed to the socket (so a `<<cut>>` after it cannot swallow it). */
function write(response: ServerResponse, chunk: string): Promise<void> {
  return new Promise((resolve) => response.write(chunk, () => resolve()));
}

/** Sends a parsed fixture on `response`, paced by `options`. */
async function sendWireFixture(
  response: ServerResponse,
  fixture: WireFixture,
  options: Omit<ReplayOptions, "vars"> = {},
): Promise<void> {
  await pause(response, options.latencyMs ?? 0);
  if (gone(response)) return;
  const headers: Record<string, string | number> = { ...fixture.headers };
  const inOnePiece = !fixture.eventStream && fixture.steps.every((step) => "write" in step);
  const hasLength = Object.keys(headers).some((header) => header.toLowerCase() === "content-length");
  if (inOnePiece && !hasLength) {
    headers["Content-Length"] = fixture.steps.reduce(
      (length, step) => length + ("write" in step ? Buffer.byteLength(step.write) : 0),
      0,
    );
  }
  if (fixture.reason === undefined) response.writeHead(fixture.status, headers);
  else response.writeHead(fixture.status, fixture.reason, headers);
  response.flushHeaders();
  for (const [index, step] of fixture.steps.entries()) {
    if (gone(response)) return;
    if ("marker" in step) {
      if (step.marker === "cut") response.destroy();
      else await once(response, "close");
      return;
    }
    if (index > 0) await pause(response, options.delayMs ?? 0);
    if (gone(response)) return;
    await write(response, step.write);
  }
  response.end();
}

/**
 * The fixtures of the tests in `directory` (pass `import.meta.dirname`): `reply(name, options)` is a handler
 * for {@link ProviderWireServer.next} or `setDefault` that replays `__fixtures__/<name>.chunks.txt`. The file is
 * read and checked at once, so a missing fixture or placeholder fails the test where it is named.
 */
export function wireFixtures(directory: string): (name: string, options?: ReplayOptions) => WireHandler {
  return (name, options = {}) => {
    const fixture = loadWireFixture(directory, name, options.vars);
    return (_, response) => sendWireFixture(response, fixture, options);
  };
}
