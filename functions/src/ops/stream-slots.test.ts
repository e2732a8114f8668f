import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { startApiServer, type ApiServer } from "../test-support/api-server.ts";
import { authEmulator, type TestUser } from "../test-support/auth-emulator.ts";
import { openSse } from "../test-support/sse-client.ts";

/** The per-user cap on open streams and the rate limit on resume and stop, through the real `api` handler. */
describe("streams per user", function () {
  this.timeout(60_000);
  let server: ApiServer;
  let user: TestUser;

  before(async () => {
    server = await startApiServer({
      MAX_OPEN_STREAMS_PER_USER: "5",
      RATE_LIMIT_RPM: "6000",
      RATE_LIMIT_BURST: "100",
      RATE_LIMIT_FREE: "0",
      SIMULATED_TOKEN_DELAY_MS: "40",
    });
    user = await (await authEmulator()).createUser();
  });
  after(async () => {
    await server.close();
  });

  const headers = () => ({ Authorization: `Bearer ${user.idToken}`, "Content-Type": "application/json" });

  it("gives 50 resumers of one answer the cap's 429s, with Retry-After, while the answer finishes", async () => {
    const answer = await openSse(`${server.url}/chat/stream`, {
      method: "POST",
      headers: headers(),
      body: JSON.stringify({ message: "a slow answer for many watchers simulate:slow" }),
    });
    const meta = await answer.waitFor((event) => event.event === "meta");
    const messageId = meta.json<{ message_id: string }>().message_id;
    const resumers = await Promise.all(
      Array.from({ length: 50 }, () => openSse(`${server.url}/chat/stream/${messageId}`, { headers: headers() })),
    );
    const accepted = resumers.filter((resumer) => resumer.status === 200);
    const refused = resumers.filter((resumer) => resumer.status === 429);
    assert.equal(accepted.length, 4, "five slots, one of them the answer's own stream");
    assert.equal(refused.length, 46);
    for (const resumer of refused) {
      assert.equal((resumer.errorBody?.error as { code: string }).code, "resource_exhausted");
      assert.ok(Number(resumer.headers.get("retry-after")) >= 1);
    }
    await answer.finished;
    assert.equal(answer.events.at(-1)?.event, "done", "the answer finished regardless");
    await Promise.all(accepted.map((resumer) => resumer.finished));
    assert.ok(accepted.every((resumer) => resumer.events.at(-1)?.event === "done"));
    // Every slot was given back: a new stream opens.
    const again = await openSse(`${server.url}/chat/stream/${messageId}`, { headers: headers() });
    assert.equal(again.status, 200);
    await again.finished;
  });

  it("refuses a new answer over the cap before writing anything, and leaks no slot when clients hang up early", async () => {
    const single = await startApiServer({
      MAX_OPEN_STREAMS_PER_USER: "1",
      RATE_LIMIT_RPM: "6000",
      RATE_LIMIT_BURST: "1000",
      RATE_LIMIT_FREE: "0",
      SIMULATED_TOKEN_DELAY_MS: "40",
    });
    try {
      const open = await openSse(`${single.url}/chat/stream`, {
        method: "POST",
        headers: headers(),
        body: JSON.stringify({ message: "holding the only slot simulate:slow" }),
      });
      const meta = await open.waitFor((event) => event.event === "meta");
      const refused = await openSse(`${single.url}/chat/stream`, {
        method: "POST",
        headers: headers(),
        body: JSON.stringify({ message: "one too many", request_id: "over-the-cap" }),
      });
      assert.equal(refused.status, 429);
      assert.equal(
        await single.services.database.get(`users/${user.uid}/requests/over-the-cap`),
        null,
        "nothing written for a refused answer",
      );
      await open.finished;
      // Clients that hang up at once, some before their slot is even taken.
      const messageId = meta.json<{ message_id: string }>().message_id;
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          const controller = new AbortController();
          const pending = fetch(`${single.url}/chat/stream/${messageId}`, {
            headers: headers(),
            signal: controller.signal,
          });
          controller.abort();
          await pending.catch(() => undefined);
        }),
      );
      await sleep(500);
      const after = await openSse(`${single.url}/chat/stream/${messageId}`, { headers: headers() });
      assert.equal(after.status, 200, "every slot came back");
      await after.finished;
    } finally {
      await single.close();
    }
  });

  it("rate-limits stops like any other request: a burst past RATE_LIMIT_BURST is refused", async () => {
    const limited = await startApiServer({ RATE_LIMIT_RPM: "60", RATE_LIMIT_BURST: "5", RATE_LIMIT_FREE: "0" });
    try {
      const responses = await Promise.all(
        Array.from({ length: 12 }, () =>
          fetch(`${limited.url}/chat/stop`, {
            method: "POST",
            headers: headers(),
            body: JSON.stringify({ message_id: "msg-none" }),
          }),
        ),
      );
      const statuses = responses.map((response) => response.status);
      assert.ok(statuses.filter((status) => status === 429).length >= 6, statuses.join(","));
    } finally {
      await limited.close();
    }
  });
});
