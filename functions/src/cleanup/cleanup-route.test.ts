import assert from "node:assert/strict";
import { startApiServer, type ApiServer } from "../test-support/api-server.ts";
import { authEmulator, type TestUser } from "../test-support/auth-emulator.ts";

/**
 * `POST /admin/cleanup` through the real `api` handler with ID tokens from the Auth emulator: who may run the
 * sweep, and the envelope of its report. (What the sweep does is `cleanup-service.test.ts`.)
 */
describe("POST /admin/cleanup", function () {
  this.timeout(30_000);
  let server: ApiServer;
  let admin: TestUser;
  let user: TestUser;

  before(async () => {
    server = await startApiServer();
    const emulator = await authEmulator();
    user = await emulator.createUser();
    admin = await emulator.withClaims(await emulator.createUser(), { admin: true });
  });
  after(async () => {
    await server.close();
  });

  const sweep = (who?: TestUser) =>
    fetch(`${server.url}/admin/cleanup`, {
      method: "POST",
      headers: who === undefined ? {} : { Authorization: `Bearer ${who.idToken}` },
    });

  it("refuses anyone but an admin", async () => {
    assert.equal((await sweep(user)).status, 403);
    assert.equal((await sweep()).status, 401);
  });

  it("answers an admin with the sweep's counts and whether to call again", async () => {
    const response = await sweep(admin);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), {
      ok: true,
      removed: { requests: 0, deleted_chats: 0, aborted_streams: 0, stale_jobs: 0, media: 0 },
      more: false,
    });
  });
});
