import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startApiServer, type ApiServer } from "../test-support/api-server.ts";
import { authEmulator, type TestUser } from "../test-support/auth-emulator.ts";
import { openSse } from "../test-support/sse-client.ts";
import { until } from "../test-support/until.ts";
import { paths } from "../store/paths.ts";
import type { MessageRecord } from "../store/records.ts";
import { responseOf } from "../chat/tool-call-view.ts";

/**
 * Downstream HTTP tools from the operator's tools file, called by the real tool loop through the real `api`
 * handler, against a local service: the configured URL and secret header only, arguments checked, long answers
 * cut, failures and timeouts told to the model, and a stop that ends a slow call at once.
 */
describe("downstream HTTP tools (TOOLS_FILE)", function () {
  this.timeout(30_000);
  let service: Server;
  let serviceUrl: string;
  let server: ApiServer;
  let alice: TestUser;
  const received: { method: string; url: string; headers: IncomingMessage["headers"]; body: string }[] = [];
  let answer: (request: IncomingMessage, response: ServerResponse) => void = (_request, response) => {
    response.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ status: "shipped" }));
  };

  before(async () => {
    service = createServer((request, response) => {
      let body = "";
      request.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
      request.on("end", () => {
        received.push({ method: request.method ?? "", url: request.url ?? "", headers: request.headers, body });
        answer(request, response);
      });
    });
    await new Promise<void>((resolve) => service.listen(0, "127.0.0.1", resolve));
    const address = service.address();
    serviceUrl = typeof address === "object" && address !== null ? `http://127.0.0.1:${String(address.port)}` : "";
    const directory = mkdtempSync(join(tmpdir(), "atelier-tools-"));
    const file = join(directory, "tools.json");
    writeFileSync(
      file,
      JSON.stringify({
        tools: [
          {
            name: "lookup_order",
            description: "Looks up an order by its number.",
            parameters: {
              type: "object",
              properties: { order_number: { type: "string", pattern: "^[0-9]{4,}$" } },
              required: ["order_number"],
            },
            url: `${serviceUrl}/orders/lookup`,
            method: "POST",
            auth: { header: "Authorization", secret: "ORDERS_API_TOKEN", prefix: "Bearer " },
            timeout_seconds: 1,
          },
          {
            name: "slow_report",
            description: "Builds a sales report (slow).",
            parameters: { type: "object", properties: { year: { type: "integer" } } },
            url: `${serviceUrl}/reports`,
            method: "GET",
            timeout_seconds: 20,
          },
        ],
      }),
    );
    server = await startApiServer({
      TOOLS_FILE: file,
      TOOL_SECRETS: "ORDERS_API_TOKEN",
      ORDERS_API_TOKEN: "orders-token-never-logged",
      TOOL_RESULT_MAX_BYTES: "2000",
      STREAM_UPDATE_INTERVAL_MS: "100",
      RATE_LIMIT_RPM: "6000",
      RATE_LIMIT_BURST: "1000",
      RATE_LIMIT_FREE: "0",
    });
    alice = await (await authEmulator()).createUser();
  });
  after(async () => {
    await server.close();
    service.closeAllConnections();
    await new Promise((resolve) => service.close(resolve));
  });
  beforeEach(() => {
    received.length = 0;
  });

  const ask = (message: string) =>
    openSse(`${server.url}/chat/stream`, {
      method: "POST",
      headers: { Authorization: `Bearer ${alice.idToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({ message }),
    });
  const resultOf = (session: Awaited<ReturnType<typeof ask>>) =>
    session.events.find((event) => event.event === "tool_result")?.json();

  const call = (tool: string, input: Record<string, unknown>) => ask(`simulate:call ${tool} ${JSON.stringify(input)}`);
  const storedCall = async (session: Awaited<ReturnType<typeof ask>>) => {
    const id = session.events.find((event) => event.event === "meta")?.json<{ message_id: string }>().message_id ?? "";
    return (await server.services.database.get<MessageRecord>(paths.message(alice.uid, id)))?.data;
  };

  it("calls the configured URL with the secret header and the model's arguments, and the model reads the answer", async () => {
    const session = await call("lookup_order", { order_number: "12345" });
    await session.finished;
    assert.equal(received.length, 1);
    assert.equal(received[0]?.method, "POST");
    assert.equal(received[0].url, "/orders/lookup");
    assert.equal(received[0].headers.authorization, "Bearer orders-token-never-logged");
    assert.deepEqual(JSON.parse(received[0].body), { order_number: "12345" });
    assert.equal(resultOf(session)?.ok, true);
    assert.match(session.text(), /lookup_order answered: \{"status":"shipped"\}/);
    const logs = server.logLines.join("\n");
    assert.ok(!logs.includes("orders-token-never-logged"), "the secret is never logged");
    assert.ok(!logs.includes("12345"), "nor the arguments");
    assert.ok(logs.includes('"tool":"lookup_order"'));
  });

  it("sends GET arguments as the query string", async () => {
    answer = (_request, response) => response.writeHead(200).end("a plain report");
    const session = await call("slow_report", { year: 2026 });
    await session.finished;
    assert.equal(received[0]?.url, "/reports?year=2026");
    assert.equal(received[0].headers.authorization, undefined, "no auth configured, none sent");
    assert.match(session.text(), /slow_report answered: "a plain report"/);
  });

  it("refuses arguments that fail the tool's JSON Schema without calling the service", async () => {
    const session = await call("lookup_order", { order_number: "12" });
    await session.finished;
    assert.equal(received.length, 0);
    assert.equal(resultOf(session)?.ok, false);
    assert.match(String(resultOf(session)?.error), /^Invalid arguments for lookup_order: order_number/);
    assert.equal(session.events.at(-1)?.event, "done", "the model explains; the answer goes on");
    const extra = await call("lookup_order", { order_number: "12345", refund: true });
    await extra.finished;
    assert.match(String(resultOf(extra)?.error), /^Invalid arguments for lookup_order/, "no field the schema lacks");
    assert.equal(received.length, 0);
  });

  it("tells the model an error answer or a timeout in words without the URL, and cuts long answers", async () => {
    answer = (_request, response) => response.writeHead(503).end("overloaded at 10.1.2.3");
    const failed = await call("lookup_order", { order_number: "12345" });
    await failed.finished;
    assert.deepEqual(resultOf(failed), {
      call_id: "call-1",
      ok: false,
      error: "The lookup_order service answered HTTP 503.",
    });

    answer = (_request, response) => {
      setTimeout(() => response.writeHead(200).end("{}"), 1_500).unref();
    };
    const late = await call("lookup_order", { order_number: "12345" });
    await late.finished;
    assert.equal(resultOf(late)?.error, "The lookup_order service did not answer within 1 seconds.");

    answer = (_request, response) =>
      response.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ text: "x".repeat(5_000) }));
    const long = await call("lookup_order", { order_number: "12345" });
    await long.finished;
    const made = (await storedCall(long))?.tool_calls?.[0];
    const stored = (made === undefined ? {} : responseOf(made)) as { truncated?: boolean; result?: string };
    assert.equal(stored.truncated, true);
    assert.equal(stored.result?.length, 2_000, "cut at TOOL_RESULT_MAX_BYTES");
  });

  it("stops a slow call at once when the answer is stopped: the request is aborted, the message ends aborted", async () => {
    let closed: Promise<void> = Promise.resolve();
    answer = (request) => {
      // Never answers; records when the caller hangs up.
      closed = new Promise((resolve) => request.socket.once("close", () => resolve()));
    };
    const session = await call("slow_report", { year: 2026 });
    const started = await session.waitFor((event) => event.event === "tool_call");
    await until(
      () => Promise.resolve(received.length),
      (count) => count === 1,
      { what: "the request at the service" },
    );
    const messageId = session.events.find((event) => event.event === "meta")?.json<{ message_id: string }>().message_id;
    const stop = await fetch(`${server.url}/chat/stop`, {
      method: "POST",
      headers: { Authorization: `Bearer ${alice.idToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({ message_id: messageId }),
    });
    assert.equal(((await stop.json()) as { status: string }).status, "aborted");
    await closed;
    await session.finished;
    assert.ok(Date.now() - started.at < 5_000, "long before the tool's 20-second timeout");
    assert.equal(session.events.at(-1)?.json<{ code: string }>().code, "aborted");
    const stopped = await storedCall(session);
    assert.equal(stopped?.tool_calls?.[0]?.status, "error", "no call is left running");
  });
});
