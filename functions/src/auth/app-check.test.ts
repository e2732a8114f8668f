import assert from "node:assert/strict";
import { startApiServer, type ApiServer } from "../test-support/api-server.ts";
import { authEmulator, type TestUser } from "../test-support/auth-emulator.ts";

/**
 * App Check on the signed-in routes. A genuine App Check token cannot be minted offline (it is signed by
 * Google and verified against Google's published keys), so these tests prove the refusals and the monitoring;
 * the acceptance of a real token is firebase-admin's `verifyToken`.
 */
describe("App Check", function () {
  this.timeout(30_000);
  let user: TestUser;

  before(async () => {
    user = await (await authEmulator()).createUser();
  });

  const account = (server: ApiServer, appCheck?: string) =>
    fetch(`${server.url}/account`, {
      headers: {
        Authorization: `Bearer ${user.idToken}`,
        ...(appCheck === undefined ? {} : { "X-Firebase-AppCheck": appCheck }),
      },
    });

  it("enforce: refuses signed-in requests without a valid App Check token, leaves public routes open", async () => {
    const server = await startApiServer({ APP_CHECK: "enforce" });
    try {
      for (const token of [undefined, "not-an-app-check-token"]) {
        const response = await account(server, token);
        assert.equal(response.status, 401);
        assert.match(((await response.json()) as { error: { message: string } }).error.message, /App Check/);
      }
      assert.equal((await fetch(`${server.url}/health`)).status, 200);
    } finally {
      await server.close();
    }
  });

  it("monitor: lets the request through and logs the failure, without the token", async () => {
    const server = await startApiServer({ APP_CHECK: "monitor" });
    try {
      const response = await account(server, "forged-app-check-token-12345");
      assert.equal(response.status, 200);
      const warning = server.logs().find((entry) => entry.message === "app check failed");
      assert.deepEqual([warning?.problem, warning?.mode], ["invalid", "monitor"]);
      assert.ok(!server.logLines.join("\n").includes("forged-app-check-token-12345"));
    } finally {
      await server.close();
    }
  });

  it("off (the default): does not look", async () => {
    const server = await startApiServer();
    try {
      assert.equal((await account(server)).status, 200);
      assert.equal(server.logs().filter((entry) => entry.message === "app check failed").length, 0);
    } finally {
      await server.close();
    }
  });
});
