import assert from "node:assert/strict";
import type { DocumentDatabase, Transaction } from "../database/document-database.ts";
import { paths } from "../store/paths.ts";
import type { UsageMonthRecord } from "../store/usage-ledger.ts";
import { ledgerPeriod } from "../store/usage-ledger.ts";
import { startApiServer, type ApiServer } from "../test-support/api-server.ts";
import { authEmulator, type TestUser } from "../test-support/auth-emulator.ts";
import { openSse } from "../test-support/sse-client.ts";
import { until } from "../test-support/until.ts";

/**
 * Receipts, budgets and the usage reports through the real `api` handler, offline: the labelled simulations
 * report usage as the live providers would and are priced as the live models are, on their own ledger.
 */

/** A database whose transactions refuse ledger writes while `failing.ledger` is set (a Firestore write failing). */
function failingLedgerWrites(failing: { ledger: boolean }) {
  return (inner: DocumentDatabase): DocumentDatabase =>
    new Proxy(inner, {
      get(target, property) {
        if (property === "transaction") {
          return <T>(work: (transaction: Transaction) => Promise<T>) =>
            target.transaction((transaction) =>
              work(
                new Proxy(transaction, {
                  get(inside, name) {
                    const value: unknown = Reflect.get(inside, name);
                    if (name === "set" && failing.ledger) {
                      return (path: string, data: object) => {
                        if (path.includes("/usage/")) throw new Error("ledger write failed");
                        return inside.set(path, data);
                      };
                    }
                    return typeof value === "function"
                      ? (value as (...args: unknown[]) => unknown).bind(inside)
                      : value;
                  },
                }),
              ),
            );
        }
        const value: unknown = Reflect.get(target, property);
        return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
}

const micros = (usd: unknown) => Math.round(Number(usd) * 1_000_000);

/** The `details` of an error answer. */
const detailsOf = (body: Record<string, unknown>) =>
  (body.error as { details?: Record<string, unknown> } | undefined)?.details ?? {};

interface Receipt {
  readonly input_tokens: number;
  readonly output_tokens: number;
  readonly search_queries?: number;
  readonly cost_usd: number;
}

/** The `done` event's receipt. */
function receiptOf(events: readonly { readonly event: string; readonly data: string }[]): Receipt {
  const done = events.find((event) => event.event === "done");
  assert.ok(done !== undefined, "the answer ended done");
  return (JSON.parse(done.data) as { usage: Receipt }).usage;
}

describe("usage, receipts and budgets", function () {
  this.timeout(60_000);
  let server: ApiServer;
  let admin: TestUser;
  const failing = { ledger: false };
  const emulator = () => authEmulator();

  before(async () => {
    server = await startApiServer(
      {
        SIMULATED_JOB_DELAY_MS: "20",
        VEO_POLL_INTERVAL_SECONDS: "1",
        RATE_LIMIT_FREE: "0",
        RATE_LIMIT_RPM: "6000",
        RATE_LIMIT_BURST: "1000",
        RATE_LIMIT_USER_ACTIVE_JOBS: "50",
        RATE_LIMIT_CONVERSATION_TASKS: "50",
        BUDGET_FREE_USD: "2",
      },
      { wrapDatabase: failingLedgerWrites(failing) },
    );
    const auth = await emulator();
    admin = await auth.withClaims(await auth.createUser(), { admin: true });
  });
  after(async () => {
    await server.close();
  });

  const call = async (who: TestUser, method: string, path: string, body?: unknown, headers = {}) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${who.idToken}`, "Content-Type": "application/json", ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as Record<string, unknown>,
    };
  };
  const chat = async (who: TestUser, body: Record<string, unknown>) => {
    const stream = await openSse(`${server.url}/chat/stream`, {
      method: "POST",
      headers: { Authorization: `Bearer ${who.idToken}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    await stream.finished;
    return stream;
  };
  const finishedJob = (who: TestUser, jobId: string) =>
    until(
      async () => (await call(who, "GET", `/jobs/${jobId}`)).body,
      (job) => job.status === "done" || job.status === "error",
      { timeoutMs: 20_000, what: `job ${jobId}` },
    );
  const ledgerOf = async (uid: string): Promise<UsageMonthRecord | undefined> =>
    (
      await server.services.database.get<UsageMonthRecord>(
        paths.usageMonth(uid, ledgerPeriod(new Date()).month, "simulated"),
      )
    )?.data;
  const documentsOf = async (uid: string) => {
    let count = 0;
    for (const collection of ["chats", "messages", "jobs", "requests"] as const) {
      count += (await server.services.database.query({ collection: paths[collection](uid) })).length;
    }
    return count;
  };
  const newUser = async () => (await emulator()).createUser();

  it("puts a receipt on every answer and job, and the month's total is their sum to the micro-dollar", async () => {
    const user = await newUser();
    const answer = await chat(user, { message: "Tell me about herons" });
    const receipt = receiptOf(answer.events);
    // Gemini 3.8 Flash at $0.75 in and $3.75 out per million tokens (the price in force today), rounded up once.
    const expected = Math.ceil(receipt.input_tokens * 0.75 + receipt.output_tokens * 3.75 - 1e-6);
    assert.equal(micros(receipt.cost_usd), expected);
    assert.ok(expected > 0);

    const image = await call(user, "POST", "/image/generate", { prompt: "a heron", count: 2 });
    assert.equal(image.status, 200, JSON.stringify(image.body));
    const imageJob = await finishedJob(user, String(image.body.job_id));
    // Nano Banana 2.1: two 1K pictures at $0.0336 and the prompt's 2 tokens at $1.50 per million.
    assert.deepEqual(imageJob.usage, { input_tokens: 2, output_tokens: 0, images: 2, cost_usd: 0.067203 });

    const video = await call(user, "POST", "/video/generate", { prompt: "a heron takes off", duration_seconds: 4 });
    assert.equal(video.status, 200, JSON.stringify(video.body));
    const videoJob = await finishedJob(user, String(video.body.job_id));
    assert.equal(videoJob.status, "done");
    // Gemini Omni 1.1 Flash at 720p: $0.10 a second.
    assert.deepEqual(videoJob.usage, { input_tokens: 0, output_tokens: 0, video_seconds: 4, cost_usd: 0.4 });

    // The job's receipt reaches its message; the history shows every receipt.
    let sum = 0;
    const chats = (await call(user, "GET", "/history/chats")).body.chats as { chat_id: string }[];
    for (const { chat_id } of chats) {
      const history = await call(user, "GET", `/history/chats/${chat_id}`);
      for (const message of history.body.messages as { usage?: { cost_usd: number }; role: string }[]) {
        if (message.role === "assistant") sum += micros(message.usage?.cost_usd);
      }
    }
    const usage = await call(user, "GET", "/account/usage");
    assert.equal(usage.status, 200);
    const month = usage.body.month as Record<string, unknown>;
    assert.equal(usage.body.provider, "simulated");
    assert.equal(micros(month.cost_usd), sum);
    assert.equal(sum, expected + 67_203 + 400_000);
    assert.equal(month.reserved_usd, 0);
    assert.equal(month.requests, 3);
    assert.equal(month.budget_usd, 2);
    assert.equal(micros(month.remaining_usd), 2_000_000 - sum);
    assert.deepEqual(month.by_kind, { text: expected / 1e6, image: 0.067203, video: 0.4, search: 0 });
    const days = usage.body.days as { date: string; cost_usd: number; requests: number }[];
    assert.equal(days.length, 30);
    assert.equal(days.at(-1)?.date, new Date().toISOString().slice(0, 10));
    assert.equal(micros(days.at(-1)?.cost_usd), sum);
    // Real spending is a separate ledger, untouched by the simulations.
    const live = await call(user, "GET", "/account/usage?provider=live");
    assert.equal((live.body.month as Record<string, unknown>).cost_usd, 0);
  });

  it("prices a grounded answer's web search on its receipt", async () => {
    const user = await newUser();
    const answer = await chat(user, { message: "where do herons nest?", grounding: true });
    const receipt = receiptOf(answer.events);
    assert.equal(receipt.search_queries, 1);
    // Tavily advanced search: 2 credits at $0.008.
    const text = Math.ceil(receipt.input_tokens * 0.75 + receipt.output_tokens * 3.75 - 1e-6);
    assert.equal(micros(receipt.cost_usd), text + 16_000);
    const month = (await call(user, "GET", "/account/usage")).body.month as { by_kind: Record<string, number> };
    assert.equal(micros(month.by_kind.search), 16_000);
    assert.equal(micros(month.by_kind.text), text);
  });

  it("charges nothing for a failed or blocked generation, and releases its reservation", async () => {
    const user = await newUser();
    const failed = await chat(user, { message: "simulate:unavailable please" });
    assert.ok(failed.events.some((event) => event.event === "error"));
    const blocked = await call(user, "POST", "/image/generate", { prompt: "simulate:blocked a heron" });
    const blockedJob = await finishedJob(user, String(blocked.body.job_id));
    assert.equal(blockedJob.status, "error");
    assert.equal((blockedJob.usage as Record<string, unknown> | undefined)?.cost_usd ?? 0, 0);
    const ledger = await ledgerOf(user.uid);
    assert.equal(ledger?.spent_micros, 0);
    assert.equal(ledger.reserved_micros, 0);
    assert.equal(ledger.requests, 2);
  });

  it("never charges a replayed request_id twice", async () => {
    const user = await newUser();
    const body = { message: "once only", request_id: "req-usage-replay-1" };
    await chat(user, body);
    const first = await ledgerOf(user.uid);
    const replay = await chat(user, body);
    assert.ok(replay.events.some((event) => event.event === "done"));
    assert.deepEqual(await ledgerOf(user.uid), first);
  });

  it("refuses a request that does not fit the budget with 429 reason budget, writing nothing", async () => {
    const user = await newUser();
    const set = await call(admin, "POST", `/admin/users/${user.uid}/budget`, { monthly_usd: 0.5 });
    assert.deepEqual(set.body, { ok: true, uid: user.uid, monthly_usd: 0.5 });
    const before = await documentsOf(user.uid);
    // Omni reserves 8 s at $0.10, its fallback Veo 3.1 Fast 8 s at $0.15: $1.20 does not fit in $0.50.
    const refused = await call(user, "POST", "/video/generate", { prompt: "a heron" });
    assert.equal(refused.status, 429);
    assert.equal(detailsOf(refused.body).reason, "budget");
    assert.equal(detailsOf(refused.body).remaining_usd, 0.5);
    assert.equal(detailsOf(refused.body).needed_usd, 1.2);
    const retryAfter = Number(refused.headers.get("retry-after"));
    const { end } = ledgerPeriod(new Date());
    assert.ok(Math.abs(retryAfter - (end.getTime() - Date.now()) / 1000) < 60, `Retry-After ${String(retryAfter)}`);
    assert.equal(await documentsOf(user.uid), before);
    assert.equal(await ledgerOf(user.uid), undefined);
    // Within the budget it goes ahead; back on the tier's budget ($2) the video fits again.
    assert.equal((await call(user, "POST", "/image/generate", { prompt: "a small heron" })).status, 200);
    await call(admin, "POST", `/admin/users/${user.uid}/budget`, { monthly_usd: null });
    assert.equal((await call(user, "POST", "/video/generate", { prompt: "a heron" })).status, 200);
  });

  it("takes a budget from the user's token (set-claims), over the one set through the admin API", async () => {
    const auth = await emulator();
    const user = await auth.withClaims(await auth.createUser(), { budget_usd: 0.5 });
    await call(admin, "POST", `/admin/users/${user.uid}/budget`, { monthly_usd: 50 });
    const refused = await call(user, "POST", "/video/generate", { prompt: "a heron" });
    assert.equal(refused.status, 429);
    assert.equal(detailsOf(refused.body).budget_usd, 0.5);
    const month = (await call(user, "GET", "/account/usage")).body.month as Record<string, unknown>;
    assert.equal(month.budget_usd, 0.5);
  });

  it("lets concurrent requests of one user reserve no more than the budget", async () => {
    const user = await newUser();
    // Each 4-second video reserves $0.60 (Veo 3.1 Fast, the dearest of its chain): two fit in $1.30, not three.
    await call(admin, "POST", `/admin/users/${user.uid}/budget`, { monthly_usd: 1.3 });
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, index) =>
        call(user, "POST", "/video/generate", { prompt: `heron ${String(index)}`, duration_seconds: 4 }),
      ),
    );
    const accepted = results.filter((result) => result.status === 200);
    assert.equal(accepted.length, 2, JSON.stringify(results.map((result) => result.status)));
    assert.ok(results.every((result) => result.status === 200 || detailsOf(result.body).reason === "budget"));
    const ledger = await ledgerOf(user.uid);
    assert.ok((ledger?.reserved_micros ?? 0) + (ledger?.spent_micros ?? 0) <= 1_300_000);
    for (const result of accepted) await finishedJob(user, String(result.body.job_id));
    const settled = await ledgerOf(user.uid);
    assert.equal(settled?.reserved_micros, 0);
    assert.equal(settled.spent_micros, 800_000);
  });

  it("rolls the generation start back when the ledger write fails", async () => {
    const user = await newUser();
    const before = await documentsOf(user.uid);
    failing.ledger = true;
    try {
      const refused = await call(user, "POST", "/image/generate", { prompt: "a heron" });
      assert.equal(refused.status, 500);
    } finally {
      failing.ledger = false;
    }
    assert.equal(await documentsOf(user.uid), before);
    assert.equal(await ledgerOf(user.uid), undefined);
  });

  it("ends an answer whose next round of tool calls the budget does not cover, keeping what it made", async () => {
    const user = await newUser();
    // The first round reserves about $0.07 (a whole history and 16,384 tokens out), the picture it asks for
    // $0.034; a second round would need about $0.06 more.
    await call(admin, "POST", `/admin/users/${user.uid}/budget`, { monthly_usd: 0.15 });
    const answer = await chat(user, { message: "simulate:tool-loop draw a heron" });
    const done = answer.events.find((event) => event.event === "done");
    assert.ok(done !== undefined, answer.events.map((event) => event.event).join(","));
    assert.equal((JSON.parse(done.data) as { finish_reason: string }).finish_reason, "BUDGET_LIMIT");
    const tokens = answer.events.filter((event) => event.event === "token").map((event) => event.data);
    assert.match(tokens.join(""), /monthly budget does not cover another step/);
    // Settled once the picture the first round asked for is done too.
    const ledger = await until(
      () => ledgerOf(user.uid),
      (found) => found?.reserved_micros === 0,
      { timeoutMs: 20_000, what: "the ledger settled" },
    );
    assert.ok((ledger?.spent_micros ?? 0) <= 150_000);
  });

  it("charges what an answer had used when its chat is deleted mid-answer, releasing the rest", async () => {
    const user = await newUser();
    const stream = await openSse(`${server.url}/chat/stream`, {
      method: "POST",
      headers: { Authorization: `Bearer ${user.idToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({ message: "tell me a long story simulate:slow" }),
    });
    const meta = await stream.waitFor((event) => event.event === "meta");
    const { chat_id, message_id } = JSON.parse(meta.data) as { chat_id: string; message_id: string };
    // The answer's receipt so far is written with its content.
    await until(
      async () => (await server.services.database.get<{ usage?: unknown }>(paths.message(user.uid, message_id)))?.data,
      (message) => message?.usage !== undefined,
      { timeoutMs: 10_000, what: "the receipt so far" },
    );
    assert.equal((await call(user, "DELETE", `/history/chats/${chat_id}`)).status, 200);
    await stream.finished;
    const ledger = await ledgerOf(user.uid);
    assert.equal(ledger?.reserved_micros, 0);
    assert.ok(ledger.spent_micros > 0, "what was streamed is paid for");
  });

  it("settles the reservation of an answer whose server died, when the sweep ends it", async () => {
    const user = await newUser();
    const { database } = server.services;
    const period = ledgerPeriod(new Date());
    const long = new Date(Date.now() - 3_600_000);
    const charge = {
      month: period.month,
      day: period.day,
      provider: "simulated",
      kind: "text",
      reserved_micros: 70_000,
    };
    await database.set(paths.usageMonth(user.uid, period.month, "simulated"), {
      uid: user.uid,
      month: period.month,
      provider: "simulated",
      reserved_micros: 70_000,
      spent_micros: 0,
      requests: 1,
      by_kind: { text: 0, image: 0, video: 0, search: 0 },
      days: { [period.day]: { cost_micros: 0, requests: 1 } },
      updated_at: long,
    });
    await database.set(paths.message(user.uid, "msg-crashed"), {
      message_id: "msg-crashed",
      chat_id: "chat-crashed",
      seq: 2,
      role: "assistant",
      type: "text",
      content: "half an ans",
      status: "streaming",
      request_id: "req-crashed",
      created_at: long,
      updated_at: long,
      alive_at: long,
      model: "gemini-3.8-flash",
      provider: "simulated",
      charge,
      // The receipt its generator had written with its content, before it died.
      usage: { input_tokens: 40, output_tokens: 3, cost_micros: 42 },
    });
    await server.services.cleanup.sweep();
    const message = (await database.get<Record<string, unknown>>(paths.message(user.uid, "msg-crashed")))?.data;
    // Ended as the sweep ends any silent answer: what it had used is spent, the rest released.
    assert.equal(message?.status, "aborted");
    assert.equal(message.charge, undefined);
    const ledger = await ledgerOf(user.uid);
    assert.equal(ledger?.reserved_micros, 0);
    assert.equal(ledger.spent_micros, 42);
  });

  it("refuses negative, absurd or malformed budgets, and non-admins", async () => {
    const user = await newUser();
    for (const body of [
      { monthly_usd: -1 },
      { monthly_usd: 1e9 },
      { monthly_usd: "5" },
      {},
      { monthly_usd: 5, x: 1 },
    ]) {
      const refused = await call(admin, "POST", `/admin/users/${user.uid}/budget`, body);
      assert.equal(refused.status, 400, JSON.stringify(body));
    }
    assert.equal((await call(user, "POST", `/admin/users/${user.uid}/budget`, { monthly_usd: 100 })).status, 403);
    assert.equal((await server.services.database.get(paths.user(user.uid)))?.data, undefined);
  });

  it("ranks users by spend for admins, a page at a time", async () => {
    // Three users who spent different amounts (more may have spent in the tests before).
    for (const count of [1, 2, 3]) {
      const user = await newUser();
      const image = await call(user, "POST", "/image/generate", { prompt: "a heron", count });
      await finishedJob(user, String(image.body.job_id));
    }
    const month = ledgerPeriod(new Date()).month;
    const first = await call(admin, "GET", `/admin/usage?month=${month}&provider=simulated&limit=2`);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const users = first.body.users as { uid: string; cost_usd: number }[];
    assert.equal(users.length, 2);
    assert.ok(users[0]!.cost_usd >= users[1]!.cost_usd);
    const next = await call(
      admin,
      "GET",
      `/admin/usage?month=${month}&provider=simulated&limit=2&cursor=${String(first.body.next_cursor)}`,
    );
    const more = next.body.users as { uid: string; cost_usd: number }[];
    assert.ok(more.length > 0);
    assert.ok(more.every((entry) => entry.cost_usd <= users[1]!.cost_usd));
    assert.ok(more.every((entry) => !users.some((seen) => seen.uid === entry.uid)));
    assert.equal((await call(admin, "GET", "/admin/usage?month=2026-13")).status, 400);
    assert.equal((await call(admin, "GET", `/admin/usage?month=${month}&cursor=nonsense`)).status, 400);
    assert.equal((await call(await newUser(), "GET", `/admin/usage?month=${month}`)).status, 403);
  });
});
