/**
 * Parses a Server-Sent Events byte stream as the specification says: `event`, `data` (joined across lines),
 * `id` (kept until changed), comment lines, and LF, CRLF or CR line ends. Used by the smoke scripts and the
 * tests' SSE client.
 */
export interface ParsedEvent {
  readonly event: string;
  readonly data: string;
  readonly id: string | undefined;
}

interface SseHandlers {
  onEvent(event: ParsedEvent): void;
  onComment?(text: string): void;
}

export async function parseSse(body: ReadableStream<Uint8Array>, handlers: SseHandlers): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let name = "";
  let data: string[] = [];
  let lastId: string | undefined;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let newline: number;
    while ((newline = buffer.search(/\r\n|\n|\r/)) !== -1) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer.startsWith("\r\n", newline) ? 2 : 1));
      if (line === "") {
        if (data.length > 0 || name !== "")
          handlers.onEvent({ event: name === "" ? "message" : name, data: data.join("\n"), id: lastId });
        name = "";
        data = [];
        continue;
      }
      if (line.startsWith(":")) {
        handlers.onComment?.(line.slice(1).trim());
        continue;
      }
      const colon = line.indexOf(":");
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") name = value;
      else if (field === "data") data.push(value);
      else if (field === "id") lastId = value;
    }
  }
}
