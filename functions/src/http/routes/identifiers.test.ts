import assert from "node:assert/strict";
import { paths } from "../../store/paths.ts";
import { startApiServer, type ApiServer } from "../../test-support/api-server.ts";
import { authEmulator, type TestUser } from "../../test-support/auth-emulator.ts";
import { openSse } from "../../test-support/sse-client.ts";

/**
 * Every id, cursor and offset a client sends is checked against what Firestore accepts before anything is read or
 * written: a bad one is a 400 with the envelope, never a 500 from the database, and nothing is stored.
 */
describe("identifiers from clients", function () {
  this.timeout(30_000);
  let server: ApiServer;
  let user: TestUser;

  before(async () => {
    server = await startApiServer({ RATE_LIMIT_RPM: "6000", RATE_LIMIT_BURST: "1000", RATE_LIMIT_FREE: "0" });
    user = await (await authEmulator()).createUser();
  });
  after(async () => {
    await server.close();
  });

  const headers = () => ({ Authorization: `Bearer ${user.idToken}`, "Content-Type": "application/json" });
  const call = async (method: string, path: string, body?: unknown, extra: Record<string, string> = {}) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { ...headers(), ...extra },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as { error?: { code: string } } };
  };
  const storedRequests = async () => server.services.database.query({ collection: paths.requests(user.uid) });
  const errorLines = () => server.logs().filter((entry) => entry.severity === "ERROR");

  it("refuses request and chat ids Firestore would refuse, writing nothing", async () => {
    for (const body of [
      { message: "hi", request_id: ".." },
      { message: "hi", request_id: "." },
      { message: "hi", request_id: "__reserved__" },
      { message: "hi", chat_id: "__x__" },
      { message: "hi", request_id: "a/b" },
    ]) {
      const response = await call("POST", "/chat/stream", body);
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.equal(response.body.error?.code, "invalid_argument");
    }
    for (const route of ["/image/generate", "/video/generate"]) {
      const response = await call("POST", route, { prompt: "x", request_id: ".." });
      assert.equal(response.status, 400, route);
    }
    assert.deepEqual(await storedRequests(), []);
  });

  it("refuses a bad message id on the resume route with 400, not a 500 with a stack in the log", async () => {
    const before = errorLines().length;
    // (A path segment of "." or ".." never arrives: URL resolution removes it on the client's side.)
    for (const id of ["a%2Fb", "__x__", "a%2F..%2Fb"]) {
      const response = await call("GET", `/chat/stream/${id}`);
      assert.equal(response.status, 400, id);
      assert.equal(response.body.error?.code, "invalid_argument");
    }
    assert.equal(errorLines().length, before, "no ERROR line");
  });

  it("refuses a forged history cursor: an id holding a '/', a date Firestore cannot hold", async () => {
    for (const values of [
      [Date.now(), "chats/../x"],
      [1e300, "chat-x"],
      [253_402_300_800_000, "chat-x"],
    ]) {
      const forged = Buffer.from(JSON.stringify(values)).toString("base64url");
      const response = await call("GET", `/history/chats?cursor=${forged}`);
      assert.equal(response.status, 400, JSON.stringify(values));
      assert.equal(response.body.error?.code, "invalid_argument");
    }
  });

  it("refuses bad ids in stop, job and chat routes", async () => {
    assert.equal((await call("POST", "/chat/stop", { message_id: "__x__" })).status, 400);
    assert.equal((await call("GET", "/jobs/__x__")).status, 400);
    assert.equal((await call("GET", "/history/chats/__x__")).status, 400);
    assert.equal((await call("DELETE", "/history/chats/a%2Fb")).status, 400);
  });

  it("clamps a Last-Event-ID past the end of a finished answer instead of echoing it", async () => {
    const first = await openSse(`${server.url}/chat/stream`, {
      method: "POST",
      headers: headers(),
      body: JSON.stringify({ message: "a short answer please" }),
    });
    await first.finished;
    const messageId = first.events[0]?.json<{ message_id: string }>().message_id ?? "";
    const length = Number(first.events.at(-1)?.id);
    const resumed = await openSse(`${server.url}/chat/stream/${messageId}`, {
      headers: { ...headers(), "Last-Event-ID": "999999999" },
    });
    await resumed.finished;
    assert.deepEqual(
      resumed.events.map((event) => [event.event, event.id]),
      [
        ["meta", String(length)],
        ["done", String(length)],
      ],
    );
  });
});
