import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DatabaseSync } from "node:sqlite";
import { setTimeout as sleep } from "node:timers/promises";
import { contractIndexes, describeDocumentDatabaseContract } from "./document-database.contract.ts";
import { DatabaseUnavailableError } from "./document-database.ts";
import { openSqliteDocumentDatabase } from "./sqlite-document-database.ts";

const childScript = fileURLToPath(new URL("../test-support/sqlite-child-process.ts", import.meta.url));

function runChild(args: string[], onLine?: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", childScript, ...args], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      for (const line of chunk.split("\n")) if (line !== "") onLine?.(line);
    });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`child exited with ${String(code)}`))));
  });
}

describe("SqliteDocumentDatabase", function () {
  this.timeout(30_000);
  let directory: string;

  before(() => {
    directory = mkdtempSync(join(tmpdir(), "atelier-sqlite-"));
  });
  after(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  let contended = 0;
  describeDocumentDatabaseContract(
    "sqlite",
    () =>
      openSqliteDocumentDatabase(join(directory, "contract.db"), {
        indexes: contractIndexes(),
        simulatedContention: () => contended > 0 && contended-- > 0,
      }),
    { enforcesIndexes: true, injectContention: (times) => (contended = times) },
  );

  it("stores dates so that they survive reopening the file", async () => {
    const file = join(directory, "reopen.db");
    const first = await openSqliteDocumentDatabase(file);
    const when = new Date("2030-01-02T03:04:05.678Z");
    await first.set("a/b", { when });
    await first.close();
    const second = await openSqliteDocumentDatabase(file);
    assert.deepEqual((await second.get("a/b"))?.data, { when });
    await second.close();
  });

  it("refuses documents over Firestore's 1 MiB limit, as Firestore does", async () => {
    const database = await openSqliteDocumentDatabase(join(directory, "large.db"));
    await assert.rejects(database.set("a/big", { text: "x".repeat(1_100_000) }), /too large/);
    assert.equal(await database.get("a/big"), null);
    await database.close();
  });

  describe("shared by several processes", () => {
    it("loses no increment when three processes and this one write the same counter", async () => {
      const file = join(directory, "shared.db");
      const database = await openSqliteDocumentDatabase(file);
      await database.set("counters/c", { value: 0 });
      const local = Array.from({ length: 25 }, () =>
        database.transaction(async (transaction) => {
          const current = await transaction.get<{ value: number }>("counters/c");
          transaction.set("counters/c", { value: (current?.data.value ?? 0) + 1 });
        }),
      );
      await Promise.all([
        ...local,
        runChild(["increment", file, "counters/c", "25"]),
        runChild(["increment", file, "counters/c", "25"]),
        runChild(["increment", file, "counters/c", "25"]),
      ]);
      assert.equal((await database.get<{ value: number }>("counters/c"))?.data.value, 100);
      await database.close();
    });

    it("sees another process's commits through watch", async () => {
      const file = join(directory, "watched.db");
      const database = await openSqliteDocumentDatabase(file, { watchIntervalMs: 20 });
      await database.set("counters/w", { value: 0 });
      const seen: number[] = [];
      const reached = new Promise<void>((resolve) => {
        const stop = database.watch<{ value: number }>("counters/w", (document) => {
          seen.push(document?.data.value ?? -1);
          if (document?.data.value === 5) {
            stop();
            resolve();
          }
        });
      });
      await runChild(["increment", file, "counters/w", "5"]);
      await reached;
      assert.equal(seen.at(-1), 5);
      await database.close();
    });

    it("waits for a lock held by another process, then writes", async () => {
      const file = join(directory, "locked-wait.db");
      const database = await openSqliteDocumentDatabase(file, { lockTimeoutMs: 10_000 });
      let lockedAt = 0;
      const holder = runChild(["hold-lock", file, "800"], () => (lockedAt = Date.now()));
      while (lockedAt === 0) await sleep(10);
      await database.set("things/after-lock", { ok: true });
      assert.ok(Date.now() - lockedAt >= 500, "the write should have waited for the lock");
      await holder;
      assert.deepEqual((await database.get("things/after-lock"))?.data, { ok: true });
      await database.close();
    });

    it("fails cleanly when the lock outlasts its timeout, writes nothing and keeps the file intact", async () => {
      const file = join(directory, "locked-fail.db");
      const database = await openSqliteDocumentDatabase(file, { lockTimeoutMs: 200 });
      await database.set("things/before", { n: 1 });
      let locked = false;
      const holder = runChild(["hold-lock", file, "1500"], () => (locked = true));
      while (!locked) await sleep(10);
      const loopStarted = Date.now();
      let longestStall = 0;
      let previousTick = Date.now();
      const ticker = setInterval(() => {
        longestStall = Math.max(longestStall, Date.now() - previousTick);
        previousTick = Date.now();
      }, 5);
      await assert.rejects(database.set("things/during-lock", { n: 2 }), DatabaseUnavailableError);
      clearInterval(ticker);
      assert.ok(Date.now() - loopStarted < 1_200, "gave up after its timeout");
      assert.ok(longestStall < 150, `the event loop kept turning while waiting (longest stall ${longestStall} ms)`);
      await holder;
      assert.equal(await database.get("things/during-lock"), null);
      assert.deepEqual((await database.get("things/before"))?.data, { n: 1 });
      await database.close();
      const check = new DatabaseSync(file);
      assert.equal(check.prepare("PRAGMA integrity_check").get()?.integrity_check, "ok");
      check.close();
    });
  });
});
