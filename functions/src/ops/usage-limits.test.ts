import assert from "node:assert/strict";
import { paths } from "../store/paths.ts";
import { startApiServer, type ApiServer } from "../test-support/api-server.ts";
import { authEmulator, type TestUser } from "../test-support/auth-emulator.ts";
import { openSse } from "../test-support/sse-client.ts";

/**
 * Per-user limits through the API: the monthly generation quota by tier (free and paid: `RATE_LIMIT_FREE`, `RATE_LIMIT_PAID`) and the
 * requests-per-minute rate limit, at their edges, under concurrency and across the month boundary.
 */
describe("usage limits", function () {
  this.timeout(60_000);
  let server: ApiServer;
  let clock = 0;
  const monthEnd = Date.parse("2026-11-30T23:59:00Z");

  before(async () => {
    server = await startApiServer(
      {
        RATE_LIMIT_FREE: "3",
        RATE_LIMIT_PAID: "5",
        RATE_LIMIT_BURST: "1000",
        RATE_LIMIT_RPM: "60000",
        SIMULATED_TOKEN_DELAY_MS: "0",
      },
      { now: () => clock },
    );
  });
  after(async () => {
    await server.close();
  });
  beforeEach(() => {
    clock = monthEnd;
  });

  const chat = async (user: TestUser, message = "hello") => {
    const session = await openSse(`${server.url}/chat/stream`, {
      method: "POST",
      headers: { Authorization: `Bearer ${user.idToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({ message }),
    });
    await session.finished;
    return session;
  };

  describe("monthly quota", () => {
    it("allows exactly the free tier's messages, then 429 saying when it resets, until the month rolls over", async () => {
      const user = await (await authEmulator()).createUser();
      for (let index = 0; index < 3; index++) assert.equal((await chat(user)).status, 200);
      const refused = await chat(user);
      assert.equal(refused.status, 429);
      assert.equal(refused.headers.get("retry-after"), "60", "one minute to the end of November");
      const error = refused.errorBody?.error as { code: string; message: string; details: Record<string, unknown> };
      assert.equal(error.code, "resource_exhausted");
      assert.match(error.message, /3 messages of the free tier.*resets at 2026-12-01T00:00:00.000Z/);
      assert.deepEqual(error.details, { limit: 3, tier: "free", resets_at: "2026-12-01T00:00:00.000Z" });
      clock = Date.parse("2026-12-01T00:00:01Z");
      assert.equal((await chat(user)).status, 200, "a new month, a new allowance");
    });

    it("gives the paid tier its limit, from a custom claim or from the user document", async () => {
      const emulator = await authEmulator();
      const byClaim = await emulator.withClaims(await emulator.createUser(), { tier: "paid" });
      const byDocument = await emulator.createUser();
      await server.services.database.set(paths.user(byDocument.uid), { tier: "paid" });
      for (const user of [byClaim, byDocument]) {
        for (let index = 0; index < 5; index++) assert.equal((await chat(user)).status, 200);
        assert.equal((await chat(user)).status, 429);
      }
    });

    it("counts image and video requests too", async () => {
      const user = await (await authEmulator()).createUser();
      const post = (path: string) =>
        fetch(`${server.url}${path}`, {
          method: "POST",
          headers: { Authorization: `Bearer ${user.idToken}`, "Content-Type": "application/json" },
          body: JSON.stringify({ prompt: "a boat" }),
        });
      assert.equal((await post("/image/generate")).status, 200);
      assert.equal((await post("/video/generate")).status, 200);
      assert.equal((await chat(user)).status, 200);
      assert.equal((await post("/image/generate")).status, 429);
    });

    it("cannot be overshot by a burst of concurrent requests", async () => {
      const user = await (await authEmulator()).createUser();
      const sessions = await Promise.all(Array.from({ length: 8 }, (_, index) => chat(user, `burst ${String(index)}`)));
      assert.deepEqual(sessions.map((session) => session.status).sort(), [200, 200, 200, 429, 429, 429, 429, 429]);
      const chats = await server.services.database.query({ collection: paths.chats(user.uid) });
      assert.equal(chats.length, 3, "refused requests created nothing");
    });
  });

  describe("requests per minute", () => {
    it("allows the burst, refuses the next generating request with Retry-After, and leaves reading routes alone", async () => {
      const limited = await startApiServer({
        RATE_LIMIT_BURST: "2",
        RATE_LIMIT_RPM: "60",
        RATE_LIMIT_FREE: "0",
        SIMULATED_TOKEN_DELAY_MS: "0",
      });
      try {
        const user = await (await authEmulator()).createUser();
        const post = () =>
          fetch(`${limited.url}/chat/stream`, {
            method: "POST",
            headers: { Authorization: `Bearer ${user.idToken}`, "Content-Type": "application/json" },
            body: JSON.stringify({ message: "quick" }),
          });
        for (let index = 0; index < 2; index++) {
          const response = await post();
          assert.equal(response.status, 200);
          await response.text();
        }
        const refused = await post();
        assert.equal(refused.status, 429);
        assert.equal(refused.headers.get("retry-after"), "1");
        const history = await fetch(`${limited.url}/history/chats`, {
          headers: { Authorization: `Bearer ${user.idToken}` },
        });
        assert.equal(history.status, 200);
      } finally {
        await limited.close();
      }
    });
  });
});
