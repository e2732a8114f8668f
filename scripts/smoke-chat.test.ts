import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { freePort } from "../functions/src/test-support/free-port.ts";

const script = fileURLToPath(new URL("./smoke-chat.ts", import.meta.url));

/** Runs the smoke script against `backendUrl` and returns its exit code and everything it printed. */
function smoke(backendUrl: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--disable-warning=ExperimentalWarning", script],
      { env: { PATH: process.env.PATH ?? "", BACKEND_URL: backendUrl, FIREBASE_ID_TOKEN: "a-token" } },
      (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : (error.code as number | null), output: `${stdout}${stderr}` });
      },
    );
  });
}

/**
 * The smoke script's failures are one `FAIL:` line with the reason, whatever went wrong: the happy path runs end
 * to end against the local stack (e2e/chat.test.ts); these are the backends an operator hits on a bad day.
 */
describe("scripts/smoke-chat against a failing backend", function () {
  this.timeout(30_000);
  let server: Server;
  let backendUrl: string;

  before(async () => {
    server = createServer((request, response) => {
      if (request.url === "/health") {
        response.writeHead(200, { "Content-Type": "application/json" }).end('{"ok":true,"mode":"firebase"}');
        return;
      }
      // The stream route drops the connection without answering, as a crashed instance would.
      request.socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    backendUrl = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  });

  after(() => new Promise((resolve) => server.close(resolve)));

  it("says FAIL with the reason, not a stack trace, when the connection drops", async () => {
    const { code, output } = await smoke(backendUrl);
    assert.equal(code, 1, output);
    assert.match(output, /^FAIL: fetch failed: \S.*$/m);
    assert.doesNotMatch(output, /^\s+at /m);
  });

  it("says FAIL when nothing answers at BACKEND_URL", async () => {
    const { code, output } = await smoke(`http://127.0.0.1:${String(await freePort())}`);
    assert.equal(code, 1, output);
    assert.match(output, /^FAIL: GET http:\/\/127\.0\.0\.1:\d+\/health failed: fetch failed: connect ECONNREFUSED/m);
  });
});
