import assert from "node:assert/strict";
import { startApiServer, type ApiServer } from "../test-support/api-server.ts";
import { authEmulator, type TestUser } from "../test-support/auth-emulator.ts";
import {
  echoStream,
  jsonResponse,
  ProviderWireServer,
  streamChunks,
  textChunks,
} from "../test-support/provider-wire-server.ts";
import { openSse } from "../test-support/sse-client.ts";
import { paths } from "../store/paths.ts";
import type { MessageRecord, RequestRecord } from "../store/records.ts";

/**
 * Grounded chat through the real `api` handler: the Tavily adapter against a local `POST /search` server, the
 * Gemini adapter against a local Gemini server, real ID tokens, and a clock the tests can move.
 */
describe("grounded chat", function () {
  this.timeout(30_000);
  let providers: ProviderWireServer;
  let server: ApiServer;
  let clockOffset = 0;
  const QUOTA = 3;

  const searchResults = [
    { title: "Élysée", url: "https://www.elysee.fr/", content: "The President of the Republic...", score: 0.93 },
    {
      title: "Wikipedia",
      url: "https://en.wikipedia.org/wiki/President_of_France",
      content: "The president...",
      score: 0.88,
    },
  ];
  const tavilyAnswer = () => ({
    query: "q",
    answer: null,
    images: [],
    results: searchResults,
    response_time: 0.3,
    request_id: "r",
  });

  before(async () => {
    providers = await ProviderWireServer.start();
    providers.setDefault("streamGenerateContent", echoStream());
    providers.setDefault("search", (_, response) => jsonResponse(response, 200, tavilyAnswer()));
    server = await startApiServer(
      {
        GEMINI_API_KEY: "AIzaFakeKeyForGrounding",
        GEMINI_ENDPOINT: providers.url,
        TAVILY_API_KEY: "tvly-fake-key-for-grounding",
        TAVILY_ENDPOINT: providers.url,
        TAVILY_MAX_QUERIES_PER_HOUR: String(QUOTA),
        TAVILY_TIMEOUT_SECONDS: "2",
        RATE_LIMIT_FREE: "0",
        RATE_LIMIT_BURST: "1000",
        RATE_LIMIT_RPM: "6000",
      },
      { now: () => Date.now() + clockOffset },
    );
  });
  after(async () => {
    await server.close();
    await providers.close();
  });
  beforeEach(() => {
    providers.reset();
    clockOffset = 0;
  });

  const ask = (user: TestUser, body: Record<string, unknown>) =>
    openSse(`${server.url}/chat/stream`, {
      method: "POST",
      headers: { Authorization: `Bearer ${user.idToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({ grounding: true, ...body }),
    });
  const stored = async (user: TestUser, messageId: string) =>
    (await server.services.database.get<MessageRecord>(paths.message(user.uid, messageId)))?.data;

  it("sends the sources before the first token, stores grounding and citations, and checks the markers", async () => {
    const user = await (await authEmulator()).createUser();
    providers.next("streamGenerateContent", (_, response) =>
      streamChunks(
        response,
        textChunks([
          "The president is Emmanuel Macron [",
          "1]. He lives at the Élysée [1][",
          "7]. See `a[2]` too [3].",
        ]),
      ),
    );
    const session = await ask(user, { message: "Who is the current president of France?" });
    await session.finished;
    const names = session.events.map((event) => event.event);
    assert.deepEqual(names.slice(0, 2), ["meta", "sources"]);
    assert.equal(session.events[0]?.json().grounding, true);
    assert.deepEqual(session.events[1]?.json(), {
      citations: [
        { index: 1, url: "https://www.elysee.fr/", title: "Élysée" },
        { index: 2, url: "https://en.wikipedia.org/wiki/President_of_France", title: "Wikipedia" },
      ],
    });
    const expected = "The president is Emmanuel Macron [1]. He lives at the Élysée [1]. See `a[2]` too.";
    assert.equal(session.text(), expected, "the client is sent the checked text");
    const { message_id } = session.events[0].json<{ message_id: string }>();
    const message = await stored(user, message_id);
    assert.equal(message?.content, expected, "and stores the same text");
    assert.deepEqual(message.grounding, searchResults);
    assert.deepEqual(message.citations, [
      { index: 1, url: "https://www.elysee.fr/", title: "Élysée", used: true },
      { index: 2, url: "https://en.wikipedia.org/wiki/President_of_France", title: "Wikipedia", used: false },
    ]);
    assert.equal(message.citations_removed, 2);

    const search = providers.requests.find((request) => request.kind === "search");
    assert.deepEqual(
      {
        query: (search?.body as Record<string, unknown>).query,
        depth: (search?.body as Record<string, unknown>).search_depth,
        max: (search?.body as Record<string, unknown>).max_results,
      },
      { query: "Who is the current president of France?", depth: "advanced", max: 5 },
    );
    const model = providers.requests.find((request) => request.kind === "streamGenerateContent");
    const instruction = (model?.body as { systemInstruction: { parts: { text: string }[] } }).systemInstruction.parts[0]
      ?.text;
    assert.match(instruction ?? "", /\[1\] Élysée \(https:\/\/www\.elysee\.fr\/\)/);
    assert.match(instruction ?? "", /Cite them inline/);

    const replay = await openSse(`${server.url}/chat/stream/${message_id}`, {
      headers: { Authorization: `Bearer ${user.idToken}` },
    });
    await replay.finished;
    assert.equal(replay.events[1]?.event, "sources");
    assert.equal(replay.text(), expected, "a resumed or replayed stream shows the checked content");
  });

  it("condenses a short follow-up with the previous question into the search query", async () => {
    const user = await (await authEmulator()).createUser();
    const first = await ask(user, { message: "Who is the current president of France?" });
    await first.finished;
    const chatId = first.events[0]?.json<{ chat_id: string }>().chat_id;
    const second = await ask(user, { message: "And of Germany?", chat_id: chatId });
    await second.finished;
    const queries = providers.requests
      .filter((request) => request.kind === "search")
      .map((request) => (request.body as { query: string }).query);
    assert.deepEqual(queries, [
      "Who is the current president of France?",
      "Who is the current president of France? And of Germany?",
    ]);
  });

  it("reports Tavily being down as an error event, error documents, and stores no grounding", async () => {
    const user = await (await authEmulator()).createUser();
    providers.next("search", (_, response) => jsonResponse(response, 500, { detail: { error: "Internal error" } }));
    const session = await ask(user, { message: "What happened today?", request_id: "tavily-down-1" });
    await session.finished;
    assert.deepEqual(
      session.events.map((event) => event.event),
      ["meta", "error"],
    );
    assert.equal(session.events[1]?.json().code, "unavailable");
    assert.match(String(session.events[1].json().message), /Web search/);
    const { message_id } = session.events[0]?.json<{ message_id: string }>() ?? { message_id: "" };
    const message = await stored(user, message_id);
    assert.equal(message?.status, "error");
    assert.equal(typeof message.error, "string");
    assert.equal(message.grounding, undefined);
    assert.equal(message.citations, undefined);
    const request = await server.services.database.get<RequestRecord>(paths.request(user.uid, "tavily-down-1"));
    assert.equal(request?.data.status, "error");
    assert.equal(typeof request.data.error, "string");
    assert.equal(providers.count("streamGenerateContent"), 0, "no model call without sources");
  });

  describe("hourly quota", () => {
    it("allows exactly the quota, refuses the next with 429 and Retry-After, and rolls with the window", async () => {
      const user = await (await authEmulator()).createUser();
      for (let index = 0; index < QUOTA; index++) {
        clockOffset = index * 60_000;
        const session = await ask(user, { message: `question ${index}` });
        await session.finished;
        assert.equal(session.status, 200);
      }
      clockOffset = 10 * 60_000;
      const refused = await ask(user, { message: "one too many" });
      assert.equal(refused.status, 429);
      assert.equal((refused.errorBody?.error as { code: string }).code, "resource_exhausted");
      assert.equal(refused.headers.get("retry-after"), String(50 * 60), "until the oldest request leaves the hour");
      const plain = await ask(user, { message: "no search needed", grounding: false });
      await plain.finished;
      assert.equal(plain.status, 200, "ungrounded chat is not limited by the search quota");
      clockOffset = 60 * 60_000 + 1;
      const again = await ask(user, { message: "the window rolled" });
      await again.finished;
      assert.equal(again.status, 200);
      assert.equal(providers.count("search"), QUOTA + 1);
    });

    it("cannot be overshot by concurrent requests", async () => {
      const user = await (await authEmulator()).createUser();
      const sessions = await Promise.all(
        Array.from({ length: QUOTA + 5 }, (_, index) => ask(user, { message: `burst ${index}` })),
      );
      await Promise.all(sessions.map((session) => session.finished));
      const statuses = sessions.map((session) => session.status).sort();
      assert.deepEqual(statuses, [
        ...Array.from({ length: QUOTA }, () => 200),
        ...Array.from({ length: 5 }, () => 429),
      ]);
      assert.equal(providers.count("search"), QUOTA);
    });
  });

  it("refuses grounding with 503 before any stream when search is not configured", async () => {
    const bare = await startApiServer({
      SIMULATED_PROVIDERS: "off",
      GEMINI_API_KEY: "AIzaFake",
      GEMINI_ENDPOINT: providers.url,
    });
    try {
      const user = await (await authEmulator()).createUser();
      const response = await fetch(`${bare.url}/chat/stream`, {
        method: "POST",
        headers: { Authorization: `Bearer ${user.idToken}`, "Content-Type": "application/json" },
        body: JSON.stringify({ message: "search please", grounding: true }),
      });
      assert.equal(response.status, 503);
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, "unavailable");
      const health = (await (await fetch(`${bare.url}/health`)).json()) as { services: { tavily: boolean } };
      assert.equal(health.services.tavily, false);
    } finally {
      await bare.close();
    }
  });

  it("works offline with the simulated search and text providers, markers and all", async () => {
    const offline = await startApiServer({ SIMULATED_TOKEN_DELAY_MS: "0" });
    try {
      const user = await (await authEmulator()).createUser();
      const session = await openSse(`${offline.url}/chat/stream`, {
        method: "POST",
        headers: { Authorization: `Bearer ${user.idToken}`, "Content-Type": "application/json" },
        body: JSON.stringify({ message: "What is new in astronomy?", grounding: true }),
      });
      await session.finished;
      assert.equal(session.events[1]?.event, "sources");
      assert.match(session.text(), /\[1\]/);
      const { message_id } = session.events[0]?.json<{ message_id: string }>() ?? { message_id: "" };
      const message = (await offline.services.database.get<MessageRecord>(paths.message(user.uid, message_id)))?.data;
      assert.equal(message?.provider, "simulated");
      assert.ok((message.grounding?.length ?? 0) > 0);
      assert.ok(message.citations?.some((citation) => citation.used === true));
    } finally {
      await offline.close();
    }
  });
});
