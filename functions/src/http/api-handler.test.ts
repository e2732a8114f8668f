import { noTelemetry } from "../telemetry/telemetry.ts";
import assert from "node:assert/strict";
import { createServer, request as httpRequest, type Server } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { initializeApp, type App } from "firebase-admin/app";
import { getAuth } from "firebase-admin/auth";
import { CallerAuthorization } from "../auth/caller.ts";
import { FirebaseIdTokenVerifier } from "../auth/firebase-id-token-verifier.ts";
import { AppError } from "../errors/app-error.ts";
import { Logger } from "../logging/logger.ts";
import { authEmulator, TEST_PROJECT_ID, type AuthEmulator, type TestUser } from "../test-support/auth-emulator.ts";
import { claimsFor, forgedHs256Token, forgedRs256Token, unsignedToken } from "../test-support/crafted-tokens.ts";
import { createApiHandler } from "./api-handler.ts";
import type { IncomingRequest } from "./request-context.ts";
import type { Route } from "./router.ts";

/**
 * The request pipeline with the real token verifier against the Auth emulator, and routes made for the test:
 * an echo that reads the body, an admin-only route, a route that crashes.
 */
describe("api request pipeline", function () {
  this.timeout(60_000);
  let emulator: AuthEmulator;
  let app: App;
  let server: Server;
  let baseUrl: string;
  let user: TestUser;
  const logLines: string[] = [];
  const maxRequestBytes = 1024;

  const routes: Route[] = [
    {
      method: "POST",
      path: "/echo",
      access: "chat",
      handle: async (context) => {
        const body = await context.readJson();
        context.sendJson(200, { ok: true, uid: context.caller.uid, body: body ?? null });
      },
    },
    {
      method: "GET",
      path: "/items/:itemId/files/*",
      access: "chat",
      handle: async (context) => {
        context.sendJson(200, { ok: true, params: context.params });
        return Promise.resolve();
      },
    },
    {
      method: "POST",
      path: "/admin/thing",
      access: "admin",
      handle: (context) => {
        context.sendJson(200, { ok: true, admin: true });
        return Promise.resolve();
      },
    },
    {
      method: "GET",
      path: "/boom",
      access: "public",
      handle: () => Promise.reject(new Error("database password is hunter2 at /srv/internal.ts:42")),
    },
    {
      method: "GET",
      path: "/limited",
      access: "public",
      handle: () => Promise.reject(new AppError("resource_exhausted", "Slow down.", { retryAfterSeconds: 7 })),
    },
  ];

  before(async () => {
    emulator = await authEmulator();
    app = initializeApp({ projectId: TEST_PROJECT_ID }, `pipeline-${Date.now()}`);
    const handler = createApiHandler({
      telemetry: noTelemetry(),
      logger: new Logger({ sink: (line) => logLines.push(line) }),
      callers: new CallerAuthorization({
        verifier: new FirebaseIdTokenVerifier(getAuth(app), { checkRevoked: true, revocationCacheSeconds: 0 }),
        apiKeys: undefined,
        appCheck: undefined,
        logger: new Logger({ sink: (line) => logLines.push(line) }),
      }),
      routes,
      maxRequestBytes,
      corsOrigins: ["https://app.example.com", undefined],
    });
    server = createServer((request, response) => void handler(request as IncomingRequest, response));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    assert.ok(typeof address === "object" && address !== null);
    baseUrl = `http://127.0.0.1:${address.port}`;
    user = await emulator.createUser();
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${baseUrl}${path}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${user.idToken}`, "Content-Type": "application/json", ...headers },
      body,
    });

  async function expectError(response: Response, status: number, code: string) {
    assert.equal(response.status, status);
    const body = (await response.json()) as {
      ok: boolean;
      error: { code: string; message: string };
      request_id: string;
    };
    assert.equal(body.ok, false);
    assert.equal(body.error.code, code);
    assert.ok(body.error.message.length > 0);
    assert.equal(body.request_id, response.headers.get("x-request-id"));
    return body;
  }

  describe("request ids and headers", () => {
    it("echoes a well-formed X-Request-Id and replaces a malformed one", async () => {
      const kept = await fetch(`${baseUrl}/nowhere`, { headers: { "X-Request-Id": "client-123:abc" } });
      assert.equal(kept.headers.get("x-request-id"), "client-123:abc");
      const replaced = await fetch(`${baseUrl}/nowhere`, { headers: { "X-Request-Id": "has spaces and ünicode" } });
      assert.match(replaced.headers.get("x-request-id") ?? "", /^req-[0-9a-f-]{36}$/);
    });

    it("sends the security headers on every response, errors included", async () => {
      for (const response of [await fetch(`${baseUrl}/nowhere`), await fetch(`${baseUrl}/boom`)]) {
        assert.equal(response.headers.get("x-content-type-options"), "nosniff");
        assert.equal(response.headers.get("x-frame-options"), "DENY");
        assert.equal(response.headers.get("referrer-policy"), "no-referrer");
        assert.equal(response.headers.get("cache-control"), "no-store");
      }
    });

    it("answers an unknown route with the 404 envelope", async () => {
      const body = await expectError(await fetch(`${baseUrl}/nowhere/at/all`), 404, "not_found");
      assert.match(body.error.message, /GET \/nowhere\/at\/all/);
    });

    it("captures path parameters, the rest of the path included", async () => {
      const response = await fetch(`${baseUrl}/items/i%201/files/a/b.png`, {
        headers: { Authorization: `Bearer ${user.idToken}` },
      });
      assert.deepEqual(await response.json(), { ok: true, params: { itemId: "i 1", "*": "a/b.png" } });
    });

    it("puts Retry-After on a resource_exhausted error", async () => {
      const response = await fetch(`${baseUrl}/limited`);
      await expectError(response, 429, "resource_exhausted");
      assert.equal(response.headers.get("retry-after"), "7");
    });
  });

  describe("authentication", () => {
    it("accepts an ID token minted by the Auth emulator", async () => {
      const response = await post("/echo", JSON.stringify({ hello: "world" }));
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { ok: true, uid: user.uid, body: { hello: "world" } });
    });

    it("refuses a request without a token", async () => {
      await expectError(await post("/echo", "{}", { Authorization: "" }), 401, "unauthenticated");
    });

    it("refuses a scheme other than Bearer, and garbage", async () => {
      await expectError(await post("/echo", "{}", { Authorization: `Basic ${user.idToken}` }), 401, "unauthenticated");
      await expectError(await post("/echo", "{}", { Authorization: "Bearer not-a-jwt" }), 401, "unauthenticated");
    });

    it("refuses forged tokens signed with someone else's key", async () => {
      for (const token of [forgedRs256Token(claimsFor(user.uid)), forgedHs256Token(claimsFor(user.uid))]) {
        await expectError(await post("/echo", "{}", { Authorization: `Bearer ${token}` }), 401, "unauthenticated");
      }
    });

    it("refuses an expired token", async () => {
      const now = Math.floor(Date.now() / 1000);
      const token = unsignedToken(claimsFor(user.uid, { iat: now - 7200, auth_time: now - 7200, exp: now - 3600 }));
      await expectError(await post("/echo", "{}", { Authorization: `Bearer ${token}` }), 401, "unauthenticated");
    });

    it("refuses a well-formed token for a user that does not exist", async () => {
      const token = unsignedToken(claimsFor("no-such-user-anywhere"));
      await expectError(await post("/echo", "{}", { Authorization: `Bearer ${token}` }), 401, "unauthenticated");
    });

    it("refuses a token revoked after it was issued", async () => {
      const victim = await emulator.createUser();
      assert.equal((await post("/echo", "{}", { Authorization: `Bearer ${victim.idToken}` })).status, 200);
      await sleep(1_100);
      await emulator.revokeTokens(victim.uid);
      await expectError(
        await post("/echo", "{}", { Authorization: `Bearer ${victim.idToken}` }),
        401,
        "unauthenticated",
      );
    });

    it("refuses a non-admin on an admin route with 403 and lets an admin in", async () => {
      await expectError(await post("/admin/thing", "{}"), 403, "permission_denied");
      const admin = await emulator.withClaims(await emulator.createUser(), { admin: true });
      const response = await post("/admin/thing", "{}", { Authorization: `Bearer ${admin.idToken}` });
      assert.equal(response.status, 200);
    });
  });

  describe("bodies", () => {
    it("answers malformed JSON with 400", async () => {
      const body = await expectError(await post("/echo", '{"unterminated":'), 400, "invalid_argument");
      assert.match(body.error.message, /not valid JSON/);
    });

    it("answers a body that is not JSON with 415", async () => {
      await expectError(await post("/echo", "hello", { "Content-Type": "text/plain" }), 415, "unsupported_media_type");
    });

    it("accepts JSON media types with parameters and suffixes", async () => {
      const response = await post("/echo", '{"a":1}', {
        "Content-Type": "application/merge-patch+json; charset=utf-8",
      });
      assert.equal(response.status, 200);
    });

    it("answers a declared oversized body with 413 before reading it", async () => {
      await expectError(await post("/echo", JSON.stringify({ text: "x".repeat(2000) })), 413, "payload_too_large");
    });

    it("answers an oversized body sent without a length (chunked) with 413", async () => {
      const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const request = httpRequest(
          `${baseUrl}/echo`,
          {
            method: "POST",
            headers: { Authorization: `Bearer ${user.idToken}`, "Content-Type": "application/json" },
          },
          (response) => {
            let text = "";
            response.on("data", (chunk: Buffer) => (text += chunk.toString()));
            response.on("end", () => resolve({ status: response.statusCode ?? 0, body: text }));
          },
        );
        request.on("error", reject);
        for (let index = 0; index < 10; index++) request.write("x".repeat(200));
        request.end();
      });
      assert.equal(status, 413);
      assert.equal((JSON.parse(body) as { error: { code: string } }).error.code, "payload_too_large");
    });

    it("gives the route no body at all when none was sent", async () => {
      const response = await fetch(`${baseUrl}/echo`, {
        method: "POST",
        headers: { Authorization: `Bearer ${user.idToken}` },
      });
      assert.deepEqual(await response.json(), { ok: true, uid: user.uid, body: null });
    });
  });

  describe("failures inside a route", () => {
    it("answers 500 with a generic message and logs the stack", async () => {
      const response = await fetch(`${baseUrl}/boom`);
      const body = await expectError(response, 500, "internal");
      const text = JSON.stringify(body);
      assert.doesNotMatch(text, /hunter2|internal\.ts|stack/);
      const logged = logLines
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .find((entry) => entry.message === "request failed" && entry.request_id === body.request_id);
      assert.ok(logged, "an error line was logged");
      assert.equal(logged.severity, "ERROR");
      assert.match(String(logged.stack), /Error: database password/);
    });
  });

  describe("CORS", () => {
    it("allows a configured origin", async () => {
      const response = await fetch(`${baseUrl}/nowhere`, { headers: { Origin: "https://app.example.com" } });
      assert.equal(response.headers.get("access-control-allow-origin"), "https://app.example.com");
      assert.match(response.headers.get("access-control-expose-headers") ?? "", /Retry-After/);
    });

    it("gives other origins nothing to go on", async () => {
      const response = await fetch(`${baseUrl}/nowhere`, { headers: { Origin: "https://evil.example.com" } });
      assert.equal(response.headers.get("access-control-allow-origin"), null);
    });

    it("answers preflight for allowed origins only", async () => {
      const allowed = await fetch(`${baseUrl}/echo`, {
        method: "OPTIONS",
        headers: { Origin: "https://app.example.com", "Access-Control-Request-Method": "POST" },
      });
      assert.equal(allowed.status, 204);
      assert.match(allowed.headers.get("access-control-allow-headers") ?? "", /Authorization/);
      assert.match(allowed.headers.get("access-control-allow-headers") ?? "", /Last-Event-ID/);
      const refused = await fetch(`${baseUrl}/echo`, {
        method: "OPTIONS",
        headers: { Origin: "https://evil.example.com", "Access-Control-Request-Method": "POST" },
      });
      assert.equal(refused.headers.get("access-control-allow-origin"), null);
      assert.equal(refused.headers.get("access-control-allow-methods"), null);
    });
  });

  describe("access log", () => {
    it("writes one structured line per request with the access-log fields and no token", async () => {
      const response = await post("/echo", '{"a":1}', { "X-Request-Id": "log-check-1" });
      assert.equal(response.status, 200);
      await sleep(50);
      const entries = logLines
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((entry) => entry.request_id === "log-check-1");
      assert.equal(entries.length, 1);
      const [entry] = entries;
      assert.ok(entry);
      assert.equal(entry.message, "request");
      assert.equal(entry.severity, "INFO");
      assert.equal(entry.path, "/echo");
      assert.equal(entry.method, "POST");
      assert.equal(entry.status_code, 200);
      assert.equal(typeof entry.latency, "number");
      assert.equal(entry.uid, "auth");
      for (const line of logLines) assert.ok(!line.includes(user.idToken), "no log line holds the ID token");
    });
  });
});
