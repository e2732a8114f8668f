import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import {
  DocumentExistsError,
  DocumentMissingError,
  type DocumentDatabase,
  type StoredDocument,
} from "./document-database.ts";
import { DOCUMENT_ID } from "./query.ts";
import {
  InvalidDocumentPathError,
  InvalidQueryError,
  MAX_TRANSACTION_ATTEMPTS,
  TransactionContentionError,
} from "./firestore-limits.ts";
import { readIndexDefinitions, type IndexDefinitions } from "./index-coverage.ts";

/** The collection group the contract's group query uses, beneath random roots. */
const CONTRACT_GROUP = "contractgroup";

/** The project's indexes, plus the one the contract's collection-group query needs. */
export function contractIndexes(): IndexDefinitions {
  const project = readIndexDefinitions();
  return {
    indexes: project.indexes,
    fieldOverrides: [
      ...project.fieldOverrides,
      { collectionGroup: CONTRACT_GROUP, fieldPath: "status", indexes: [{ queryScope: "COLLECTION_GROUP" }] },
    ],
  };
}

interface ContractOptions {
  /** Makes the next `times` commits lose to a (simulated) concurrent writer. Absent: not testable here. */
  readonly injectContention?: (times: number) => void;
  /** Whether the adapter refuses queries no index serves (production Firestore does; its emulator does not). */
  readonly enforcesIndexes: boolean;
}

/**
 * The behaviour every DocumentDatabase adapter must have, Firestore's refusals included. Each adapter's test file
 * calls this with a factory; every test works under its own random root so adapters sharing a backend do not see
 * each other's data.
 */
export function describeDocumentDatabaseContract(
  adapterName: string,
  open: () => Promise<DocumentDatabase>,
  options: ContractOptions,
): void {
  describe(`DocumentDatabase contract: ${adapterName}`, function () {
    this.timeout(20_000);
    let database: DocumentDatabase;
    let root: string;

    before(async () => {
      database = await open();
    });
    after(async () => {
      await database.close();
    });
    beforeEach(() => {
      root = `contract/${randomUUID()}`;
    });

    const path = (...segments: string[]) => [root, ...segments].join("/");

    describe("single documents", () => {
      it("returns null for a document that does not exist", async () => {
        assert.equal(await database.get(path("things", "missing")), null);
      });

      it("round-trips strings, numbers, booleans, null, arrays, nested maps and dates", async () => {
        const when = new Date("2026-11-22T10:11:12.345Z");
        const data = {
          text: "héllo ✨",
          count: 42,
          ratio: 0.5,
          flag: true,
          nothing: null,
          list: [1, "two", { three: 3 }],
          nested: { at: when, deeper: { ok: false } },
          when,
        };
        await database.create(path("things", "a"), data);
        const stored = await database.get(path("things", "a"));
        assert.ok(stored);
        assert.equal(stored.id, "a");
        assert.equal(stored.path, path("things", "a"));
        assert.deepEqual(stored.data, data);
        assert.ok(stored.data.when instanceof Date);
      });

      it("refuses to create a document twice", async () => {
        await database.create(path("things", "b"), { n: 1 });
        await assert.rejects(database.create(path("things", "b"), { n: 2 }), DocumentExistsError);
        assert.deepEqual((await database.get(path("things", "b")))?.data, { n: 1 });
      });

      it("set replaces the whole document", async () => {
        await database.set(path("things", "c"), { keep: 1, drop: 2 });
        await database.set(path("things", "c"), { keep: 3 });
        assert.deepEqual((await database.get(path("things", "c")))?.data, { keep: 3 });
      });

      it("update merges top-level fields and replaces nested maps", async () => {
        await database.set(path("things", "d"), { a: 1, b: { x: 1, y: 2 } });
        await database.update(path("things", "d"), { b: { x: 9 }, c: "new" });
        assert.deepEqual((await database.get(path("things", "d")))?.data, { a: 1, b: { x: 9 }, c: "new" });
      });

      it("update of a missing document fails and creates nothing", async () => {
        await assert.rejects(database.update(path("things", "nope"), { a: 1 }), DocumentMissingError);
        assert.equal(await database.get(path("things", "nope")), null);
      });

      it("delete removes a document and is silent when it is already gone", async () => {
        await database.set(path("things", "e"), { a: 1 });
        await database.delete(path("things", "e"));
        await database.delete(path("things", "e"));
        assert.equal(await database.get(path("things", "e")), null);
      });

      it("deleteTree removes a document and everything beneath it, and nothing beside it", async () => {
        await database.set(path("users", "u1"), { name: "one" });
        await database.set(path("users", "u1", "chats", "c1"), { title: "t" });
        await database.set(path("users", "u1", "chats", "c1", "messages", "m1"), { text: "x" });
        await database.set(path("users", "u10"), { name: "ten" });
        await database.set(path("users", "u10", "chats", "c9"), { title: "keep" });
        assert.equal(await database.deleteTree(path("users", "u1")), 3);
        assert.equal(await database.get(path("users", "u1", "chats", "c1", "messages", "m1")), null);
        assert.equal(await database.get(path("users", "u1")), null);
        assert.deepEqual((await database.get(path("users", "u10", "chats", "c9")))?.data, { title: "keep" });
      });
    });

    describe("queries", () => {
      const seed = async () => {
        const base = Date.parse("2026-01-01T00:00:00Z");
        const rows = [
          { id: "m1", chat_id: "a", seq: 1, status: "done", updated_at: new Date(base + 1000) },
          { id: "m2", chat_id: "a", seq: 2, status: "streaming", updated_at: new Date(base + 3000) },
          { id: "m3", chat_id: "b", seq: 1, status: "done", updated_at: new Date(base + 2000) },
          { id: "m4", chat_id: "a", seq: 3, status: "error", updated_at: new Date(base + 3000) },
          { id: "m5", chat_id: "a", status: "pending", updated_at: new Date(base + 5000) },
        ];
        for (const { id, ...data } of rows) await database.set(path("users", "u1", "messages", id), data);
        return base;
      };
      const ids = (documents: StoredDocument[]) => documents.map((document) => document.id);

      it("filters by equality and orders ascending, leaving out documents without the ordered field", async () => {
        await seed();
        const found = await database.query({
          collection: path("users", "u1", "messages"),
          where: [{ field: "chat_id", op: "==", value: "a" }],
          orderBy: [{ field: "seq", direction: "asc" }],
        });
        assert.deepEqual(ids(found), ["m1", "m2", "m4"]);
      });

      it("orders by a date descending with the document id breaking ties", async () => {
        await seed();
        const found = await database.query({
          collection: path("users", "u1", "messages"),
          orderBy: [
            { field: "updated_at", direction: "desc" },
            { field: DOCUMENT_ID, direction: "desc" },
          ],
        });
        assert.deepEqual(ids(found), ["m5", "m4", "m2", "m3", "m1"]);
      });

      it("pages with a cursor across ties without skipping or repeating", async () => {
        await seed();
        const pages: string[][] = [];
        let cursor: unknown[] | undefined;
        for (;;) {
          const page = await database.query({
            collection: path("users", "u1", "messages"),
            orderBy: [
              { field: "updated_at", direction: "desc" },
              { field: DOCUMENT_ID, direction: "desc" },
            ],
            limit: 2,
            ...(cursor === undefined ? {} : { startAfter: cursor }),
          });
          if (page.length === 0) break;
          pages.push(ids(page));
          const last = page[page.length - 1];
          assert.ok(last);
          cursor = [last.data.updated_at, last.id];
        }
        assert.deepEqual(pages, [["m5", "m4"], ["m2", "m3"], ["m1"]]);
      });

      it("compares dates, numbers and membership", async () => {
        const base = await seed();
        const recent = await database.query({
          collection: path("users", "u1", "messages"),
          where: [{ field: "updated_at", op: ">=", value: new Date(base + 3000) }],
          orderBy: [{ field: "updated_at", direction: "asc" }],
        });
        assert.deepEqual(ids(recent).sort(), ["m2", "m4", "m5"]);
        const active = await database.query({
          collection: path("users", "u1", "messages"),
          where: [{ field: "status", op: "in", value: ["streaming", "pending"] }],
        });
        assert.deepEqual(ids(active).sort(), ["m2", "m5"]);
        const later = await database.query({
          collection: path("users", "u1", "messages"),
          where: [
            { field: "chat_id", op: "==", value: "a" },
            { field: "seq", op: ">", value: 1 },
          ],
        });
        assert.deepEqual(ids(later).sort(), ["m2", "m4"]);
      });

      it("limits results", async () => {
        await seed();
        const found = await database.query({
          collection: path("users", "u1", "messages"),
          orderBy: [{ field: "updated_at", direction: "asc" }],
          limit: 2,
        });
        assert.deepEqual(ids(found), ["m1", "m3"]);
      });

      it("queries a collection group across parents", async () => {
        const group = CONTRACT_GROUP;
        await database.set(path("users", "u1", group, "x"), { status: "streaming" });
        await database.set(path("users", "u2", group, "y"), { status: "streaming" });
        await database.set(path("users", "u2", group, "z"), { status: "done" });
        const found = await database.query({
          collection: group,
          group: true,
          where: [{ field: "status", op: "==", value: "streaming" }],
        });
        assert.deepEqual(found.map((document) => document.path).sort(), [
          path("users", "u1", group, "x"),
          path("users", "u2", group, "y"),
        ]);
      });
    });

    describe("transactions", () => {
      it("commits every write together", async () => {
        await database.transaction(async (transaction) => {
          const existing = await transaction.get(path("accounts", "a"));
          assert.equal(existing, null);
          transaction.create(path("accounts", "a"), { balance: 10 });
          transaction.set(path("accounts", "b"), { balance: 5 });
        });
        assert.equal((await database.get(path("accounts", "a")))?.data.balance, 10);
        assert.equal((await database.get(path("accounts", "b")))?.data.balance, 5);
      });

      it("reads several documents at once, in the order asked, absent ones as null", async () => {
        await database.set(path("accounts", "d"), { balance: 4 });
        await database.set(path("accounts", "e"), { balance: 6 });
        const found = await database.transaction(async (transaction) => {
          const documents = await transaction.getAll<{ balance: number }>([
            path("accounts", "e"),
            path("accounts", "missing"),
            path("accounts", "d"),
          ]);
          transaction.set(path("accounts", "sum"), {
            balance: documents.reduce((sum, document) => sum + (document?.data.balance ?? 0), 0),
          });
          return documents.map((document) => document?.data.balance ?? null);
        });
        assert.deepEqual(found, [6, null, 4]);
        assert.equal((await database.get<{ balance: number }>(path("accounts", "sum")))?.data.balance, 10);
        assert.deepEqual(await database.transaction((transaction) => transaction.getAll([])), []);
      });

      it("writes nothing when the work throws", async () => {
        await assert.rejects(
          database.transaction(async (transaction) => {
            transaction.set(path("accounts", "c"), { balance: 1 });
            return Promise.reject(new Error("changed my mind"));
          }),
          /changed my mind/,
        );
        assert.equal(await database.get(path("accounts", "c")), null);
      });

      it("writes nothing when one create collides", async () => {
        await database.set(path("accounts", "taken"), { balance: 1 });
        await assert.rejects(
          database.transaction(async (transaction) => {
            transaction.set(path("accounts", "side-effect"), { balance: 2 });
            transaction.create(path("accounts", "taken"), { balance: 3 });
            return Promise.resolve();
          }),
          DocumentExistsError,
        );
        assert.equal(await database.get(path("accounts", "side-effect")), null);
        assert.equal((await database.get(path("accounts", "taken")))?.data.balance, 1);
      });

      it("serialises concurrent read-modify-write so no increment is lost", async () => {
        const counter = path("counters", "c");
        await database.set(counter, { value: 0 });
        const increments = 20;
        await Promise.all(
          Array.from({ length: increments }, () =>
            database.transaction(async (transaction) => {
              const current = await transaction.get<{ value: number }>(counter);
              transaction.update(counter, { value: (current?.data.value ?? 0) + 1 });
            }),
          ),
        );
        assert.equal((await database.get(counter))?.data.value, increments);
      });

      it("lets exactly one of several concurrent creators win", async () => {
        const target = path("requests", "r1");
        const outcomes = await Promise.allSettled(
          Array.from({ length: 5 }, (_, index) =>
            database.transaction(async (transaction) => {
              if ((await transaction.get(target)) !== null) return "existing";
              transaction.create(target, { winner: index });
              return "created";
            }),
          ),
        );
        const created = outcomes.filter((outcome) => outcome.status === "fulfilled" && outcome.value === "created");
        assert.equal(created.length, 1);
      });

      it("can query inside a transaction", async () => {
        await database.set(path("jobs", "j1"), { chat_id: "c", status: "queued" });
        await database.set(path("jobs", "j2"), { chat_id: "c", status: "done" });
        const active = await database.transaction(async (transaction) =>
          transaction.query({
            collection: path("jobs"),
            where: [
              { field: "chat_id", op: "==", value: "c" },
              { field: "status", op: "in", value: ["queued", "running"] },
            ],
          }),
        );
        assert.deepEqual(
          active.map((document) => document.id),
          ["j1"],
        );
      });
    });

    describe("what Firestore refuses", () => {
      it("refuses ids Firestore rejects: '.', '..', '__x__', over 1,500 bytes, and writes nothing", async () => {
        for (const id of [".", "..", "__reserved__", "x".repeat(1_501)]) {
          await assert.rejects(database.set(path("things", id), { n: 1 }), InvalidDocumentPathError, id);
          await assert.rejects(database.get(path("things", id)), InvalidDocumentPathError, id);
          await assert.rejects(
            database.transaction(async (transaction) => {
              transaction.create(path("things", id), { n: 1 });
              return Promise.resolve();
            }),
            InvalidDocumentPathError,
          );
        }
        await database.set(path("things", "x".repeat(1_500)), { n: 1 });
        await database.set(path("things", "_not_reserved_"), { n: 1 });
      });

      it("refuses an array directly inside an array, and writes nothing; maps between them are fine", async () => {
        await assert.rejects(database.set(path("things", "grid"), { grid: [[1, 2]] }));
        await assert.rejects(database.set(path("things", "deep"), { rows: [{ cells: [1, [2]] }] }));
        assert.equal(await database.get(path("things", "grid")), null);
        await database.set(path("things", "rows"), { rows: [{ cells: [1, 2] }] });
        assert.deepEqual((await database.get(path("things", "rows")))?.data, { rows: [{ cells: [1, 2] }] });
      });

      it("refuses 'in' with more than 30 values", async () => {
        const values = Array.from({ length: 31 }, (_, index) => `v${String(index)}`);
        await assert.rejects(
          database.query({ collection: path("things"), where: [{ field: "status", op: "in", value: values }] }),
          InvalidQueryError,
        );
        await database.query({
          collection: path("things"),
          where: [{ field: "status", op: "in", value: values.slice(0, 30) }],
        });
      });

      it("refuses a read after a write in a transaction, and writes nothing", async () => {
        await assert.rejects(
          database.transaction(async (transaction) => {
            transaction.set(path("accounts", "early"), { balance: 1 });
            await transaction.get(path("accounts", "other"));
          }),
          /all reads to be executed before all writes/,
        );
        assert.equal(await database.get(path("accounts", "early")), null);
      });

      it("refuses reading several documents after a write too, and writes nothing", async () => {
        await assert.rejects(
          database.transaction(async (transaction) => {
            transaction.set(path("accounts", "early-many"), { balance: 1 });
            await transaction.getAll([path("accounts", "other"), path("accounts", "another")]);
          }),
          /all reads to be executed before all writes/,
        );
        assert.equal(await database.get(path("accounts", "early-many")), null);
      });

      it("refuses a query that no index serves", async function () {
        if (!options.enforcesIndexes) this.skip();
        await assert.rejects(
          database.query({
            collection: path("users", "u1", "messages"),
            where: [{ field: "role", op: "==", value: "user" }],
            orderBy: [{ field: "created_at", direction: "desc" }],
          }),
          /requires an index/,
        );
      });

      it("runs a transaction's work again when it loses to a concurrent writer, applying its writes once", async function () {
        const inject = options.injectContention;
        if (inject === undefined) this.skip();
        const counter = path("counters", "retried");
        await database.set(counter, { value: 0 });
        let runs = 0;
        inject(2);
        await database.transaction(async (transaction) => {
          runs += 1;
          const current = await transaction.get<{ value: number }>(counter);
          transaction.update(counter, { value: (current?.data.value ?? 0) + 1 });
        });
        assert.equal(runs, 3);
        assert.equal((await database.get(counter))?.data.value, 1);
      });

      it("gives up after five attempts with a contention error, having written nothing", async function () {
        const inject = options.injectContention;
        if (inject === undefined) this.skip();
        let runs = 0;
        inject(MAX_TRANSACTION_ATTEMPTS);
        await assert.rejects(
          database.transaction(async (transaction) => {
            runs += 1;
            transaction.set(path("accounts", "never"), { balance: 1 });
            return Promise.resolve();
          }),
          TransactionContentionError,
        );
        assert.equal(runs, MAX_TRANSACTION_ATTEMPTS);
        assert.equal(await database.get(path("accounts", "never")), null);
      });
    });

    describe("watch", () => {
      it("reports the current document, each change and deletion, until unsubscribed", async () => {
        const target = path("watched", "w");
        await database.set(target, { step: 0 });
        const seen: (number | null)[] = [];
        let notify: () => void = () => undefined;
        const waitFor = (count: number) =>
          new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`saw only ${JSON.stringify(seen)}`)), 5_000);
            notify = () => {
              if (seen.length >= count) {
                clearTimeout(timer);
                resolve();
              }
            };
            notify();
          });
        const unsubscribe = database.watch<{ step: number }>(target, (document) => {
          seen.push(document === null ? null : document.data.step);
          notify();
        });
        await waitFor(1);
        await database.update(target, { step: 1 });
        await waitFor(2);
        await database.delete(target);
        await waitFor(3);
        unsubscribe();
        await database.set(target, { step: 2 });
        await sleep(300);
        assert.deepEqual(seen, [0, 1, null]);
      });
    });

    it("answers ping", async () => {
      await database.ping();
    });
  });
}
