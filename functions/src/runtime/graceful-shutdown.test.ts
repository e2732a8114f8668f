import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openSqliteDocumentDatabase } from "../database/sqlite-document-database.ts";
import { Logger } from "../logging/logger.ts";
import { paths } from "../store/paths.ts";
import type { MessageRecord } from "../store/records.ts";
import { authEmulator, TEST_PROJECT_ID } from "../test-support/auth-emulator.ts";
import { openSse } from "../test-support/sse-client.ts";
import { startApiServer } from "../test-support/api-server.ts";
import { ConnectionGauge } from "../ops/connection-gauge.ts";
import { shutDownStreams } from "./graceful-shutdown.ts";

describe("streaming under load and shutdown", function () {
  this.timeout(60_000);

  describe("ConnectionGauge", () => {
    it("logs once when the count crosses the warning and critical thresholds, and once when it recovers", () => {
      const lines: Record<string, unknown>[] = [];
      const gauge = new ConnectionGauge(
        new Logger({ sink: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) }),
        {
          warning: 3,
          critical: 5,
        },
      );
      const releases = Array.from({ length: 6 }, () => gauge.acquire());
      assert.equal(gauge.open, 6);
      for (const release of releases) release();
      releases[0]?.();
      assert.equal(gauge.open, 0, "a release counts once");
      assert.deepEqual(
        lines.map((line) => [line.severity, line.message, line.open_streams]),
        [
          ["WARNING", "sse connections high", 3],
          ["ERROR", "sse connections critical", 5],
          ["INFO", "sse connections back to normal", 2],
        ],
      );
    });
  });

  describe("shutting down in this process", () => {
    it("refuses new streams at once and aborts the open ones after the grace period", async () => {
      const server = await startApiServer({ SIMULATED_TOKEN_DELAY_MS: "100", RATE_LIMIT_FREE: "0" });
      try {
        const user = await (await authEmulator()).createUser();
        const headers = { Authorization: `Bearer ${user.idToken}`, "Content-Type": "application/json" };
        const long = await openSse(`${server.url}/chat/stream`, {
          method: "POST",
          headers,
          body: JSON.stringify({ message: "a long answer that will not finish within the grace period" }),
        });
        await long.waitFor((event) => event.event === "token");
        const shutdown = shutDownStreams(server.services.activeStreams, server.services.logger, 1);
        const refused = await fetch(`${server.url}/chat/stream`, {
          method: "POST",
          headers,
          body: JSON.stringify({ message: "too late" }),
        });
        assert.equal(refused.status, 503);
        assert.equal(((await refused.json()) as { error: { code: string } }).error.code, "unavailable");
        await shutdown;
        await long.finished;
        assert.equal(long.events.at(-1)?.json().code, "aborted");
      } finally {
        await server.close();
      }
    });
  });

  describe("SIGTERM with open streams (the api in a process of its own)", () => {
    let directory: string;

    before(() => {
      directory = mkdtempSync(join(tmpdir(), "atelier-sigterm-"));
    });
    after(() => {
      rmSync(directory, { recursive: true, force: true });
    });

    it("ends open streams aborted with their content saved after the grace period, and exits", async () => {
      const emulator = await authEmulator();
      const user = await emulator.createUser();
      const script = fileURLToPath(new URL("../test-support/api-process.ts", import.meta.url));
      const child = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", script], {
        stdio: ["ignore", "pipe", "inherit"],
        env: {
          ...process.env,
          DATA_BACKEND: "embedded",
          EMBEDDED_DATA_DIR: directory,
          FIREBASE_PROJECT_ID: TEST_PROJECT_ID,
          SIMULATED_TOKEN_DELAY_MS: "150",
          SHUTDOWN_GRACE_SECONDS: "1",
          STREAM_UPDATE_INTERVAL_MS: "100",
          RATE_LIMIT_FREE: "0",
          TASK_QUEUE: "in-process",
        },
      });
      const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
      const url = await new Promise<string>((resolve) => {
        child.stdout.setEncoding("utf8").on("data", (text: string) => {
          const match = /listening (\S+)/.exec(text);
          if (match?.[1] !== undefined) resolve(match[1]);
        });
      });
      const headers = { Authorization: `Bearer ${user.idToken}`, "Content-Type": "application/json" };
      const stream = await openSse(`${url}/chat/stream`, {
        method: "POST",
        headers,
        body: JSON.stringify({ message: "tell me a long story about lighthouses and the sea" }),
      });
      await stream.waitFor((event) => event.event === "token");
      const { message_id: messageId } = stream.events[0]?.json<{ message_id: string }>() ?? { message_id: "" };

      child.kill("SIGTERM");
      await stream.finished;
      const last = stream.events.at(-1);
      assert.equal(last?.event, "error");
      assert.equal(last.json().code, "aborted");
      assert.equal(await exited, 0, "the process exits once its streams have ended");

      const database = await openSqliteDocumentDatabase(join(directory, "atelier.db"));
      const message = (await database.get<MessageRecord>(paths.message(user.uid, messageId)))?.data;
      await database.close();
      assert.equal(message?.status, "aborted");
      assert.equal(message.content, stream.text(), "the content the client saw was saved");
      assert.ok(message.content.length > 0);
      assert.match(message.error ?? "", /restarting/);
    });
  });
});
