import assert from "node:assert/strict";
import { join } from "node:path";
import { openSqliteDocumentDatabase } from "../database/sqlite-document-database.ts";
import type { DocumentDatabase } from "../database/document-database.ts";
import { removeDirectory, temporaryDirectory } from "./chat-core.ts";
import { LatencyDatabase } from "./latency-database.ts";

/** The measuring tool itself: it must count round trips as the Firestore SDK makes them. */
describe("LatencyDatabase", () => {
  let directory: string;
  let inner: DocumentDatabase;
  let database: LatencyDatabase;

  before(async () => {
    directory = temporaryDirectory("atelier-latency-");
    inner = await openSqliteDocumentDatabase(join(directory, "atelier.db"));
    database = new LatencyDatabase(inner, { readMs: 3, writeMs: 3 });
  });
  after(async () => {
    await inner.close();
    removeDirectory(directory);
  });

  const sequential = async (work: () => Promise<unknown>) => {
    const from = performance.now();
    await work();
    return database.sequentialRoundTrips(from, performance.now());
  };

  it("counts a transaction's getAll as one read and its commit as another", async () => {
    const trips = await sequential(() =>
      database.transaction(async (transaction) => {
        await transaction.getAll(["a/1", "a/2", "a/3"]);
        transaction.set("a/1", { n: 1 });
      }),
    );
    assert.equal(trips, 2);
  });

  it("counts reads one after another once each, and several at first as the SDK sends them: one, then the rest", async () => {
    const oneByOne = await sequential(() =>
      database.transaction(async (transaction) => {
        await transaction.get("a/1");
        await transaction.get("a/2");
        await transaction.get("a/3");
      }),
    );
    assert.equal(oneByOne, 4);
    const together = await sequential(() =>
      database.transaction(async (transaction) => {
        await Promise.all([transaction.get("a/1"), transaction.get("a/2"), transaction.get("a/3")]);
      }),
    );
    assert.equal(together, 3);
  });

  it("counts operations in parallel once and operations in sequence each", async () => {
    assert.equal(await sequential(() => Promise.all([database.get("a/1"), database.get("a/2")])), 1);
    assert.equal(
      await sequential(async () => {
        await database.get("a/1");
        await database.set("a/2", { n: 2 });
      }),
      2,
    );
  });
});
