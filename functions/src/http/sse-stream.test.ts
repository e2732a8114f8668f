import assert from "node:assert/strict";
import { createServer, type Server, type ServerResponse } from "node:http";
import { parseSse } from "../contract/sse-parser.ts";
import { SseStream } from "./sse-stream.ts";

/**
 * Each write to a socket is a system call: a stream sends its headers with its first event, a tick's events
 * together, and its last events with the end of the response.
 */
describe("SseStream writes", () => {
  let server: Server;
  let url: string;
  let calls: string[] = [];
  let script: (stream: SseStream) => Promise<void> = () => Promise.resolve();

  before(async () => {
    server = createServer((_request, response: ServerResponse) => {
      const write = response.write.bind(response) as (chunk: string) => boolean;
      const flushHeaders = response.flushHeaders.bind(response);
      const end = response.end.bind(response) as (chunk?: string) => ServerResponse;
      response.write = ((chunk: string) => {
        calls.push("write");
        return write(chunk);
      }) as typeof response.write;
      response.flushHeaders = () => {
        calls.push("flushHeaders");
        flushHeaders();
      };
      response.end = ((chunk?: string) => {
        calls.push(chunk === undefined ? "end" : "end with data");
        return end(chunk);
      }) as typeof response.end;
      void script(new SseStream(response, 60));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (typeof address !== "object" || address === null) throw new Error("no address");
    url = `http://127.0.0.1:${String(address.port)}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const receive = async () => {
    calls = [];
    const response = await fetch(url);
    const events: string[] = [];
    if (response.body === null) throw new Error("no body");
    await parseSse(response.body, { onEvent: (event) => events.push(`${event.event} ${event.data}`) });
    return { status: response.status, events };
  };

  it("sends the headers with the first event, a tick's events in one write, and the last with the end", async () => {
    script = async (stream) => {
      stream.open();
      stream.send(
        {
          event: "meta",
          data: { chat_id: "c", message_id: "m", request_id: "r", model: "x", grounding: false, resumed: false },
        },
        0,
      );
      await new Promise((resolve) => setTimeout(resolve, 5));
      stream.send({ event: "token", data: { text: "a" } }, 1);
      stream.send({ event: "token", data: { text: "b" } }, 2);
      await new Promise((resolve) => setTimeout(resolve, 5));
      stream.send({ event: "token", data: { text: "c" } }, 3);
      stream.end();
    };
    const { status, events } = await receive();
    assert.equal(status, 200);
    assert.deepEqual(
      events.map((event) => event.split(" ")[0]),
      ["meta", "token", "token", "token"],
    );
    assert.deepEqual(calls, ["write", "write", "end with data"]);
  });

  it("sends the headers alone on the next tick when no event follows at once", async () => {
    script = async (stream) => {
      stream.open();
      await new Promise((resolve) => setTimeout(resolve, 20));
      stream.end();
    };
    const { status, events } = await receive();
    assert.equal(status, 200);
    assert.deepEqual(events, []);
    assert.deepEqual(calls, ["flushHeaders", "end"]);
  });

  it("tells of a client that left before the stream opened, and writes nothing to it", async () => {
    let told: Promise<boolean> = Promise.resolve(false);
    const opened = new Promise<void>((resolve) => {
      script = async (stream) => {
        await new Promise((wait) => setTimeout(wait, 50));
        stream.open();
        told = new Promise((heard) => {
          stream.onDisconnect(() => heard(true));
          setTimeout(() => heard(false), 1_000);
        });
        stream.send({ event: "token", data: { text: "nobody reads this" } }, 1);
        resolve();
      };
    });
    calls = [];
    const controller = new AbortController();
    const request = fetch(url, { signal: controller.signal }).catch(() => undefined);
    setTimeout(() => controller.abort(), 10);
    await request;
    await opened;
    assert.equal(await told, true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(calls, []);
  });
});
