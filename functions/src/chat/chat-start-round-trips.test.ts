import assert from "node:assert/strict";
import { SimulatedTextProvider } from "../providers/simulated/simulated-text-provider.ts";
import type { TextProvider } from "../providers/text-provider.ts";
import { startApiServer, type ApiServer } from "../test-support/api-server.ts";
import { authEmulator, type TestUser } from "../test-support/auth-emulator.ts";
import { LatencyDatabase } from "../test-support/latency-database.ts";
import { openSse } from "../test-support/sse-client.ts";
import { paths } from "../store/paths.ts";

/**
 * In production every store operation is a round trip to Firestore, and the user waits for each one made before
 * the model is called. Over a store that waits as Firestore does, a new answer calls the model after two: the
 * start transaction's one read (the request, the chat, every limit's document together) and its commit; the
 * chat's history is read alongside, and the rate limit and the stream slot are checks in that transaction.
 */
describe("round trips to the store before the model is called", function () {
  this.timeout(60_000);
  let server: ApiServer;
  let user: TestUser;
  let latency: LatencyDatabase | undefined;
  let requestedAt = 0;
  const roundTrips: number[] = [];
  const simulated = new SimulatedTextProvider({ tokenDelayMs: 0, fixedTokens: 5 });
  const observed: TextProvider = {
    run: simulated.run,
    stream: (request) => {
      roundTrips.push(latency?.sequentialRoundTrips(requestedAt, performance.now()) ?? Number.NaN);
      return simulated.stream(request);
    },
  };

  before(async () => {
    server = await startApiServer(
      { RATE_LIMIT_RPM: "6000", RATE_LIMIT_BURST: "100", RATE_LIMIT_FREE: "3", MAX_OPEN_STREAMS_PER_USER: "5" },
      {
        textProvider: observed,
        wrapDatabase: (database) => (latency = new LatencyDatabase(database, { readMs: 4, writeMs: 6 })),
      },
    );
    user = await (await authEmulator()).createUser();
  });
  after(async () => {
    await server.close();
  });

  const ask = async (body: Record<string, unknown>) => {
    requestedAt = performance.now();
    const answer = await openSse(`${server.url}/chat/stream`, {
      method: "POST",
      headers: { Authorization: `Bearer ${user.idToken}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    await answer.finished;
    // The stream slot is given back after the client has its answer: wait, so the next request's count starts
    // with the store quiet.
    for (let attempt = 0; attempt < 50; attempt++) {
      const slots = await server.services.database.get<{ slots: object }>(paths.counter(user.uid, "streams"));
      if (Object.keys(slots?.data.slots ?? {}).length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return answer;
  };

  it("is two for a new chat, and two for a second turn whose history is read alongside", async () => {
    const first = await ask({ message: "Hello there" });
    assert.equal(first.events.at(-1)?.event, "done");
    const chatId = first.events[0]?.json<{ chat_id: string }>().chat_id;
    const second = await ask({ message: "And again", chat_id: chatId });
    assert.equal(second.events.at(-1)?.event, "done");
    assert.deepEqual(roundTrips, [2, 2]);
  });

  it("still takes the rate limit, the slot and the quota in that one transaction; a refusal holds no slot", async () => {
    const rate = async () =>
      (await server.services.database.get<{ tokens: number; refilled_at: number }>(paths.counter(user.uid, "rate")))
        ?.data;
    const rateBefore = await rate();
    // The free tier allows 3 messages a month: two were sent above, this is the last one.
    const last = await ask({ message: "The third" });
    assert.equal(last.events.at(-1)?.event, "done");
    const rateAfter = await rate();
    assert.ok((rateAfter?.refilled_at ?? 0) > (rateBefore?.refilled_at ?? 0), "a rate token was taken");

    const refused = await ask({ message: "One too many", request_id: "over-quota" });
    assert.equal(refused.status, 429);
    assert.equal(await server.services.database.get(paths.request(user.uid, "over-quota")), null);
    assert.notEqual((await rate())?.refilled_at, rateAfter?.refilled_at, "a refusal takes a rate token all the same");
    const beforeInvalid = await rate();
    const invalid = await ask({});
    assert.equal(invalid.status, 400);
    assert.notEqual((await rate())?.refilled_at, beforeInvalid?.refilled_at, "so does an invalid request");
    const beforeMalformed = await rate();
    const malformed = await fetch(`${server.url}/chat/stream`, {
      method: "POST",
      headers: { Authorization: `Bearer ${user.idToken}`, "Content-Type": "application/json" },
      body: "{not json",
    });
    assert.equal(malformed.status, 400);
    assert.notEqual((await rate())?.refilled_at, beforeMalformed?.refilled_at, "and a body that is not JSON");
    const slots = await server.services.database.get<{ slots: Record<string, number> }>(
      paths.counter(user.uid, "streams"),
    );
    assert.deepEqual(slots?.data.slots, {}, "every slot was given back and the refusal took none");
  });

  it("generates the answer of a client that hung up while its start transaction committed", async () => {
    const slow = await startApiServer(
      { RATE_LIMIT_RPM: "6000", RATE_LIMIT_BURST: "100" },
      { wrapDatabase: (database) => new LatencyDatabase(database, { readMs: 50, writeMs: 400 }) },
    );
    try {
      const controller = new AbortController();
      const request = fetch(`${slow.url}/chat/stream`, {
        method: "POST",
        headers: { Authorization: `Bearer ${user.idToken}`, "Content-Type": "application/json" },
        body: JSON.stringify({ message: "Answer me even if I leave", request_id: "gone-early" }),
        signal: controller.signal,
      });
      setTimeout(() => controller.abort(), 200);
      await request.catch(() => undefined);
      const requestPath = paths.request(user.uid, "gone-early");
      let status: string | undefined;
      for (let attempt = 0; attempt < 100 && status !== "done"; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        status = (await slow.services.database.get<{ status: string }>(requestPath))?.data.status;
      }
      assert.equal(status, "done", "the answer ran to its end, ready for the client to resume");
    } finally {
      await slow.close();
    }
  });

  it("takes one rate token for a replay that fails after its start committed, not two", async () => {
    const limited = await startApiServer({ RATE_LIMIT_RPM: "1", RATE_LIMIT_BURST: "10" });
    try {
      const headers = { Authorization: `Bearer ${user.idToken}`, "Content-Type": "application/json" };
      const body = JSON.stringify({ message: "Once", request_id: "replayed-after-loss" });
      const first = await openSse(`${limited.url}/chat/stream`, { method: "POST", headers, body });
      await first.finished;
      const messageId = first.events[0]?.json<{ message_id: string }>().message_id ?? "";
      await limited.services.database.delete(paths.message(user.uid, messageId));
      const tokensBefore =
        (await limited.services.database.get<{ tokens: number }>(paths.counter(user.uid, "rate")))?.data.tokens ?? 0;
      const replay = await openSse(`${limited.url}/chat/stream`, { method: "POST", headers, body });
      assert.equal(replay.status, 404);
      const tokensAfter =
        (await limited.services.database.get<{ tokens: number }>(paths.counter(user.uid, "rate")))?.data.tokens ?? 0;
      // One token a minute refills: well under a tenth of one in this test.
      assert.ok(
        tokensBefore - tokensAfter > 0.9 && tokensBefore - tokensAfter < 1.1,
        `${tokensBefore} -> ${tokensAfter}`,
      );
    } finally {
      await limited.close();
    }
  });
});
