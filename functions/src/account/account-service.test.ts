import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { getAuth } from "firebase-admin/auth";
import { getAdminApp } from "../runtime/admin-app.ts";
import { paths } from "../store/paths.ts";
import { mediaFilesOf, TINY_PNG } from "../test-support/media-fixtures.ts";
import { startApiServer, type ApiServer } from "../test-support/api-server.ts";
import { authEmulator, type TestUser } from "../test-support/auth-emulator.ts";
import { openSse } from "../test-support/sse-client.ts";
import { until } from "../test-support/until.ts";

/**
 * `GET /account/export` and `DELETE /account` through the real `api` handler and the real Auth emulator: the
 * export holds everything the user owns; the deletion leaves nothing of them, and their old ID token is refused.
 */
describe("account export and deletion", function () {
  this.timeout(60_000);
  let server: ApiServer;
  let user: TestUser;
  let bystander: TestUser;

  before(async () => {
    server = await startApiServer({
      SIMULATED_JOB_DELAY_MS: "1500",
      RATE_LIMIT_FREE: "0",
      RATE_LIMIT_RPM: "6000",
      RATE_LIMIT_BURST: "1000",
    });
    const emulator = await authEmulator();
    [user, bystander] = [await emulator.createUser(), await emulator.createUser()];
  });
  after(async () => {
    await server.close();
  });

  const call = async (who: TestUser, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${who.idToken}`, "Content-Type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const documentsOf = async (uid: string) => {
    let count = 0;
    for (const collection of ["chats", "messages", "jobs", "requests"] as const) {
      count += (await server.services.database.query({ collection: paths[collection](uid) })).length;
    }
    return count;
  };

  it("exports every chat with every message, media as URLs that serve them", async () => {
    const answer = await openSse(`${server.url}/chat/stream`, {
      method: "POST",
      headers: { Authorization: `Bearer ${user.idToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({ message: "remember this" }),
    });
    await answer.finished;
    const image = await call(user, "POST", "/image/generate", { prompt: "a heron" });
    await until(
      () => server.services.ledger.get(user.uid, String(image.body.job_id)),
      (job) => job?.status === "done",
      { timeoutMs: 15_000 },
    );
    await call(bystander, "POST", "/image/generate", { prompt: "not theirs" });

    const exported = await call(user, "GET", "/account/export");
    assert.equal(exported.status, 200);
    assert.equal(exported.body.uid, user.uid);
    const chats = exported.body.chats as {
      messages: { role: string; content: string; images?: { url: string }[] }[];
    }[];
    assert.equal(chats.length, 2);
    const messages = chats.flatMap((chat) => chat.messages);
    assert.ok(messages.some((message) => message.content === "remember this"));
    const url = messages.flatMap((message) => message.images ?? [])[0]?.url ?? "";
    const media = await fetch(url);
    assert.equal(media.status, 200);
    assert.equal(media.headers.get("content-type"), "image/png");
    assert.ok(!JSON.stringify(exported.body).includes("not theirs"), "nobody else's data");
  });

  it("deletes everything of the user's, cancels their running work, then the account; the old token is refused", async () => {
    await call(user, "POST", "/uploads", { data: TINY_PNG.toString("base64"), mime_type: "image/png" });
    const running = await call(user, "POST", "/image/generate", { prompt: "still drawing" });
    await until(
      () => server.services.ledger.get(user.uid, String(running.body.job_id)),
      (job) => job?.status === "running",
    );
    assert.ok((await documentsOf(user.uid)) > 0);
    assert.ok(mediaFilesOf(server, user.uid).length > 0);

    const deleted = await call(user, "DELETE", "/account");
    assert.equal(deleted.status, 200);
    assert.equal((await call(user, "GET", "/account")).status, 401, "the deleted account's token is refused");

    // The worker still inside its provider call finds its job gone and keeps nothing.
    await sleep(2_500);
    assert.equal(await documentsOf(user.uid), 0);
    assert.equal(await server.services.database.get(paths.counter(user.uid, "uploads")), null);
    assert.deepEqual(mediaFilesOf(server, user.uid), []);
    const auth = getAuth(await getAdminApp(server.config));
    await assert.rejects(auth.getUser(user.uid), /no user record|user-not-found/i);
    assert.ok((await documentsOf(bystander.uid)) > 0, "nobody else's data is touched");
  });

  it("refuses work from the deleted account's tokens still valid elsewhere, and purges again once they expire", async () => {
    // As an instance whose token cache still trusts the old token: the services themselves, not the route.
    const refused = server.services.jobs.submitImage(
      { uid: user.uid, admin: false, tier: undefined },
      { prompt: "late" },
    );
    await assert.rejects(refused, /This account was deleted/);
    await assert.rejects(
      server.services.uploads.store(user.uid, { data: TINY_PNG.toString("base64"), mime_type: "image/png" }),
      /This account was deleted/,
    );
    // Something written by a request that was already in flight at the purge:
    await server.services.database.set(paths.counter(user.uid, "rate"), { tokens: 1 });
    const later = await startApiServer(
      { EMBEDDED_DATA_DIR: server.config.embeddedDataDirectory, RATE_LIMIT_FREE: "0" },
      { now: () => Date.now() + 66 * 60_000 },
    );
    try {
      await later.services.cleanup.sweep();
      assert.equal(await later.services.database.get(paths.counter(user.uid, "rate")), null);
    } finally {
      await later.close();
    }
  });

  it("is what the Auth trigger runs for a user deleted in the console, and a repeat finds nothing left", async () => {
    const again = await server.services.accounts.deleteAccount(user.uid);
    assert.deepEqual(again, { documents: 0, media: 0 });
  });
});
