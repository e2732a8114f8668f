import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import type { ApiKeyList, CreatedApiKey } from "../contract/resources.ts";
import { paths } from "../store/paths.ts";
import type { ApiKeyRecord } from "../store/records.ts";
import { startApiServer, type ApiServer } from "../test-support/api-server.ts";
import { authEmulator, type TestUser } from "../test-support/auth-emulator.ts";
import { openSse } from "../test-support/sse-client.ts";
import { solidPng } from "../test-support/test-images.ts";
import { until } from "../test-support/until.ts";

/**
 * Service API keys end to end through the real `api` handler: an admin mints one (shown once), a service uses it
 * within its scopes as its own principal, an admin lists and revokes it, and a revoked, unknown or malformed key
 * is refused like a missing one, on every instance within a second.
 */
describe("service API keys", function () {
  this.timeout(30_000);
  let server: ApiServer;
  let admin: TestUser;
  let user: TestUser;

  before(async () => {
    server = await startApiServer({ RATE_LIMIT_RPM: "6000", RATE_LIMIT_BURST: "1000" });
    const emulator = await authEmulator();
    admin = await emulator.withClaims(await emulator.createUser(), { admin: true });
    user = await emulator.createUser();
  });
  after(async () => {
    await server.close();
  });

  const asUser = (who: TestUser) => ({ Authorization: `Bearer ${who.idToken}` });
  const asKey = (key: string) => ({ "X-API-Key": key });
  const call = async (method: string, path: string, headers: Record<string, string>, body?: unknown, on = server) => {
    const response = await fetch(`${on.url}${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const mint = async (name: string, scopes: string[]) => {
    const created = await call("POST", "/admin/api-keys", asUser(admin), { name, scopes });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body as unknown as CreatedApiKey;
  };
  const errorCode = (body: Record<string, unknown>) => (body.error as { code: string }).code;

  it("mints a key shown once, lists it without its secret, and stores only a keyed hash of it", async () => {
    const created = await mint("render farm", ["jobs", "history:read"]);
    assert.match(created.api_key, /^atk_key-[0-9A-Za-z]{20}_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(created.scopes, ["jobs", "history:read"]);
    assert.equal(created.api_key.startsWith(created.prefix), true);

    const listed = (await call("GET", "/admin/api-keys", asUser(admin))).body as unknown as ApiKeyList;
    const entry = listed.api_keys.find((key) => key.key_id === created.key_id);
    assert.equal(entry?.name, "render farm");
    const secret = created.api_key.slice(created.api_key.lastIndexOf("_") + 1);
    assert.ok(!JSON.stringify(listed).includes(secret));
    const stored = await server.services.database.get<ApiKeyRecord>(paths.apiKey(created.key_id));
    assert.ok(stored !== null);
    assert.ok(!JSON.stringify(stored.data).includes(secret));
    assert.match(stored.data.secret_hash, /^[0-9a-f]{64}$/);
  });

  it("lets a key act as its own principal within its scopes, logged as a service without the key", async () => {
    const { api_key: key } = await mint("chat bot", ["chat", "history:read"]);
    const stream = await openSse(`${server.url}/chat/stream`, {
      method: "POST",
      headers: { ...asKey(key), "Content-Type": "application/json" },
      body: JSON.stringify({ message: "hello from a service" }),
    });
    await stream.finished;
    assert.equal(stream.status, 200);
    assert.equal(stream.events.at(-1)?.event, "done");
    const chatId = stream.events[0]?.json<{ chat_id: string }>().chat_id ?? assert.fail("no meta");

    // Its chats are its own: listed for the key, not found for a user.
    const listed = await call("GET", "/history/chats", asKey(key));
    assert.deepEqual(
      (listed.body.chats as { chat_id: string }[]).map((chat) => chat.chat_id),
      [chatId],
    );
    assert.equal((await call("GET", `/history/chats/${chatId}`, asUser(user))).status, 404);

    // Outside its scopes: 403, and nothing written.
    const image = await call("POST", "/image/generate", asKey(key), { prompt: "a fox" });
    assert.deepEqual([image.status, errorCode(image.body)], [403, "permission_denied"]);
    assert.equal((await call("GET", "/admin/api-keys", asKey(key))).status, 403);
    assert.equal((await call("GET", "/account", asKey(key))).status, 403, "an account is a user's own");

    await until(
      () => Promise.resolve(server.logs().filter((entry) => entry.message === "request" && entry.uid === "service")),
      (lines) => lines.length >= 2,
      { what: "access log lines of the service's requests" },
    );
    assert.ok(!server.logLines.join("\n").includes(key.slice(12)));
  });

  it("takes a key's generating requests from its own rate limit, like a user's", async () => {
    const { api_key: key } = await mint("bursty", ["chat"]);
    const limited = await startApiServer({
      EMBEDDED_DATA_DIR: server.config.embeddedDataDirectory,
      RATE_LIMIT_RPM: "1",
      RATE_LIMIT_BURST: "2",
    });
    try {
      const stop = () => call("POST", "/chat/stop", asKey(key), { message_id: "msg-none" }, limited);
      assert.deepEqual([(await stop()).status, (await stop()).status], [404, 404]);
      const third = await stop();
      assert.deepEqual([third.status, errorCode(third.body)], [429, "resource_exhausted"]);
      const someoneElse = await call("POST", "/chat/stop", asUser(user), { message_id: "msg-none" }, limited);
      assert.equal(someoneElse.status, 404, "a user's limit is their own");
    } finally {
      await limited.close();
    }
  });

  it("lets a key with the jobs scope upload an image and have it edited, as its own principal", async () => {
    const { api_key: key } = await mint("render farm", ["jobs"]);
    const picture = (await solidPng(16, 16)).toString("base64");
    const upload = await call("POST", "/uploads", asKey(key), { data: picture, mime_type: "image/png" });
    assert.equal(upload.status, 200, JSON.stringify(upload.body));
    assert.match(String(upload.body.path), /^users\/service@key-[0-9A-Za-z]{20}\/uploads\//);
    const submitted = await call("POST", "/image/edit", asKey(key), {
      prompt: "brighter",
      image: { path: upload.body.path },
    });
    assert.equal(submitted.status, 200, JSON.stringify(submitted.body));
    const job = await until(
      async () => (await call("GET", `/jobs/${String(submitted.body.job_id)}`, asKey(key))).body,
      (body) => body.status === "done" || body.status === "error",
      { timeoutMs: 15_000, what: "the key's image job" },
    );
    assert.equal(job.status, "done", JSON.stringify(job));
    assert.equal((await call("GET", `/jobs/${String(submitted.body.job_id)}`, asUser(user))).status, 404);
  });

  it("lets a key with the admin scope manage keys, and refuses admin routes to anyone else", async () => {
    const { api_key: adminKey } = await mint("rotation job", ["admin"]);
    const minted = await call("POST", "/admin/api-keys", asKey(adminKey), { name: "by a key", scopes: ["chat"] });
    assert.equal(minted.status, 201);
    assert.equal((await call("GET", "/admin/api-keys", asKey(adminKey))).status, 200);
    const refused = await call("POST", "/admin/api-keys", asUser(user), { name: "mine", scopes: ["admin"] });
    assert.deepEqual([refused.status, errorCode(refused.body)], [403, "permission_denied"]);
  });

  it("revokes a key: refused at once here and within a second on another instance", async () => {
    const created = await mint("short lived", ["history:read"]);
    const other = await startApiServer({ EMBEDDED_DATA_DIR: server.config.embeddedDataDirectory });
    try {
      assert.equal((await call("GET", "/history/chats", asKey(created.api_key), undefined, other)).status, 200);
      const revoked = await call("DELETE", `/admin/api-keys/${created.key_id}`, asUser(admin));
      assert.equal(revoked.status, 200);
      assert.equal(typeof revoked.body.revoked_at, "string");
      const here = await call("GET", "/history/chats", asKey(created.api_key));
      assert.deepEqual([here.status, errorCode(here.body)], [401, "unauthenticated"]);
      await sleep(1_000);
      assert.equal((await call("GET", "/history/chats", asKey(created.api_key), undefined, other)).status, 401);
      const again = await call("DELETE", `/admin/api-keys/${created.key_id}`, asUser(admin));
      assert.equal(again.body.revoked_at, revoked.body.revoked_at, "revoking twice changes nothing");
      const listed = (await call("GET", "/admin/api-keys", asUser(admin))).body as unknown as ApiKeyList;
      assert.equal(listed.api_keys.find((key) => key.key_id === created.key_id)?.revoked_at, revoked.body.revoked_at);
    } finally {
      await other.close();
    }
  });

  it("answers 401 with the envelope for a missing, malformed or unknown key, and for a key beside a token", async () => {
    const { api_key: key } = await mint("valid", ["history:read"]);
    const unknownId = key.replace(/^atk_key-[0-9A-Za-z]{4}/, "atk_key-zzzz");
    const wrongSecret = `${key.slice(0, -4)}AAAA`;
    for (const presented of ["", "not-a-key", unknownId, wrongSecret, `${key}x`]) {
      const headers: Record<string, string> = presented === "" ? {} : asKey(presented);
      const refused = await call("GET", "/history/chats", headers);
      assert.deepEqual([refused.status, errorCode(refused.body)], [401, "unauthenticated"], presented);
    }
    const both = await call("GET", "/history/chats", { ...asKey(key), ...asUser(user) });
    assert.equal(both.status, 401);
    assert.ok(!server.logLines.join("\n").includes(wrongSecret));
  });

  it("refuses bad mint requests and unknown ids with 400 and 404, writing nothing", async () => {
    const before = ((await call("GET", "/admin/api-keys", asUser(admin))).body as unknown as ApiKeyList).api_keys;
    for (const body of [
      {},
      { name: "", scopes: ["chat"] },
      { name: "x", scopes: [] },
      { name: "x", scopes: ["root"] },
    ]) {
      const refused = await call("POST", "/admin/api-keys", asUser(admin), body);
      assert.deepEqual([refused.status, errorCode(refused.body)], [400, "invalid_argument"], JSON.stringify(body));
    }
    const twice = await call("POST", "/admin/api-keys", asUser(admin), { name: "x", scopes: ["chat", "chat"] });
    assert.equal(twice.status, 400);
    assert.equal((await call("DELETE", "/admin/api-keys/key-doesnotexist", asUser(admin))).status, 404);
    const after = ((await call("GET", "/admin/api-keys", asUser(admin))).body as unknown as ApiKeyList).api_keys;
    assert.equal(after.length, before.length);
  });
});
