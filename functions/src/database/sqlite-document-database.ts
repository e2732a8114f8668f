import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import { setTimeout as sleep } from "node:timers/promises";
import {
  DatabaseUnavailableError,
  DocumentExistsError,
  DocumentMissingError,
  MAX_DOCUMENT_BYTES,
  splitDocumentPath,
  type DocumentData,
  type DocumentDatabase,
  type StoredDocument,
  type Transaction,
  type Unsubscribe,
} from "./document-database.ts";
import { DOCUMENT_ID, type Filter, type Query } from "./query.ts";
import {
  assertQueryShape,
  InvalidQueryError,
  MAX_TRANSACTION_ATTEMPTS,
  nestedArrayField,
  TransactionContentionError,
} from "./firestore-limits.ts";
import { missingIndex, type IndexDefinitions } from "./index-coverage.ts";

/**
 * The embedded adapter: one SQLite file in WAL mode, shared safely by every emulator worker process.
 *
 * - Reads use their own connection and see only committed data.
 * - Writes are serialised inside this process by a promise queue and across processes by `BEGIN IMMEDIATE`.
 *   A lock held elsewhere is waited for asynchronously (short busy timeout, then backoff) up to
 *   `lockTimeoutMs`, then the call fails with {@link DatabaseUnavailableError}: a request waits or fails
 *   cleanly and never blocks the event loop for long.
 * - Transaction writes are buffered and applied at commit, as Firestore does: reads inside a transaction never
 *   see its own writes.
 * - It refuses what Firestore refuses (`firestore-limits.ts`): ids such as `.`, `..`, `__x__` or over 1,500 bytes,
 *   a read after a write in a transaction, `in` with more than 30 values, an array directly inside an array,
 *   and, given the project's index definitions, a query no index serves.
 * - A transaction's callback may run more than once, as on Firestore: `simulatedContention` makes attempts fail
 *   as if another writer had won, up to Firestore's five, so tests prove every callback is safe to run again.
 * - `watch` polls `PRAGMA data_version` (cheap) and is told at once about commits made by this process.
 */

interface SqliteDocumentDatabaseOptions {
  /** How long to wait for a lock held by another process before giving up. */
  readonly lockTimeoutMs?: number;
  /** How often watchers look for changes made by other processes. */
  readonly watchIntervalMs?: number;
  /** Refuse queries no index of these definitions serves, as Firestore does (absent: every query runs). */
  readonly indexes?: IndexDefinitions;
  /**
   * Asked after each run of a transaction's callback (`attempt` counts from 1), before its commit: true discards
   * the run as lost to a concurrent writer, and the callback runs again (at most `MAX_TRANSACTION_ATTEMPTS` runs).
   */
  readonly simulatedContention?: (attempt: number) => boolean;
}

type Listener = (document: StoredDocument | null) => void;

interface Watched {
  readonly listeners: Set<Listener>;
  version: number | null;
}

interface PendingWrite {
  readonly kind: "create" | "set" | "update" | "delete";
  readonly path: string;
  readonly data?: object;
}

const BUSY_TIMEOUT_MS = 20;
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** The SQL expression for a field; dates are stored as `{"__date__": ms}` and compare as their millisecond value. */
function fieldExpression(field: string): string {
  if (field === DOCUMENT_ID) return "id";
  if (!FIELD_NAME.test(field)) throw new Error(`Unsupported field name: ${field}`);
  return `coalesce(json_extract(data, '$.${field}.__date__'), json_extract(data, '$.${field}'))`;
}

/**
 * Indexes for the queries the store makes, each partial to one collection id, so a write only maintains the
 * indexes of its own collection (every expression index costs JSON extraction on every write). Their expressions
 * match {@link fieldExpression} exactly, and queries carry a literal `collection_id = '...'` term so the planner
 * can prove a partial index applies.
 */
const INDEXES: readonly (readonly [
  name: string,
  collectionId: string,
  scope: "collection_path" | "collection_id",
  fields: string[],
])[] = [
  ["chats_by_activity", "chats", "collection_path", ["updated_at"]],
  ["messages_by_chat", "messages", "collection_path", ["chat_id", "seq"]],
  ["jobs_by_chat", "jobs", "collection_path", ["chat_id", "status"]],
  ["messages_by_staleness", "messages", "collection_id", ["status", "updated_at"]],
  ["messages_by_liveness", "messages", "collection_id", ["status", "alive_at"]],
  ["jobs_by_staleness", "jobs", "collection_id", ["status", "updated_at"]],
  ["requests_by_age", "requests", "collection_id", ["created_at"]],
  ["chats_being_deleted", "chats", "collection_id", ["deleting_since"]],
];
const RETIRED_INDEXES = [
  "documents_collection_updated",
  "documents_collection_chat_seq",
  "documents_collection_chat_status",
  "documents_group_status_updated",
  "documents_group_created",
];

/** A collection id as an SQL string literal (ids are plain path segments; quotes are doubled all the same). */
function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

function encode(data: object): string {
  return JSON.stringify(data, function (this: Record<string, unknown>, key: string, value: unknown) {
    const raw = this[key];
    return raw instanceof Date ? { __date__: raw.getTime() } : value;
  });
}

function decode(text: string): DocumentData {
  return JSON.parse(text, (_key, value: unknown) => {
    if (typeof value === "object" && value !== null && "__date__" in value) {
      const milliseconds = value.__date__;
      if (typeof milliseconds === "number" && Object.keys(value).length === 1) return new Date(milliseconds);
    }
    return value;
  }) as DocumentData;
}

function toSqlValue(value: unknown): SQLInputValue {
  if (value instanceof Date) return value.getTime();
  if (typeof value === "boolean") return value ? 1 : 0;
  if (value === null || typeof value === "string" || typeof value === "number") return value;
  throw new Error(`Unsupported filter value of type ${typeof value}`);
}

function isBusy(error: unknown): boolean {
  return (
    typeof error === "object" && error !== null && "errcode" in error && (error.errcode === 5 || error.errcode === 6)
  );
}

/** Random change marker: watchers only need to know that a document changed, not in what order. */
function newVersion(): number {
  return Math.floor(Math.random() * Number.MAX_SAFE_INTEGER);
}

export async function openSqliteDocumentDatabase(
  file: string,
  options: SqliteDocumentDatabaseOptions = {},
): Promise<SqliteDocumentDatabase> {
  const { DatabaseSync } = await import("node:sqlite");
  if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
  const writer = new DatabaseSync(file, { timeout: BUSY_TIMEOUT_MS });
  const database = new SqliteDocumentDatabase(writer, () => new DatabaseSync(file, { timeout: BUSY_TIMEOUT_MS }), {
    lockTimeoutMs: options.lockTimeoutMs ?? 5_000,
    watchIntervalMs: options.watchIntervalMs ?? 100,
    ...(options.indexes === undefined ? {} : { indexes: options.indexes }),
    ...(options.simulatedContention === undefined ? {} : { simulatedContention: options.simulatedContention }),
  });
  await database.initialise();
  return database;
}

class SqliteDocumentDatabase implements DocumentDatabase {
  readonly #writer: DatabaseSync;
  readonly #openReader: () => DatabaseSync;
  #reader: DatabaseSync | undefined;
  readonly #lockTimeoutMs: number;
  readonly #watchIntervalMs: number;
  readonly #statements = new Map<string, StatementSync>();
  #writeQueue: Promise<unknown> = Promise.resolve();
  readonly #watched = new Map<string, Watched>();
  #watchTimer: NodeJS.Timeout | undefined;
  #lastDataVersion = -1;
  #closed = false;
  readonly #indexes: IndexDefinitions | undefined;
  readonly #simulatedContention: ((attempt: number) => boolean) | undefined;

  constructor(
    writer: DatabaseSync,
    openReader: () => DatabaseSync,
    options: {
      lockTimeoutMs: number;
      watchIntervalMs: number;
      indexes?: IndexDefinitions;
      simulatedContention?: (attempt: number) => boolean;
    },
  ) {
    this.#writer = writer;
    this.#openReader = openReader;
    this.#lockTimeoutMs = options.lockTimeoutMs;
    this.#watchIntervalMs = options.watchIntervalMs;
    this.#indexes = options.indexes;
    this.#simulatedContention = options.simulatedContention;
  }

  async initialise(): Promise<void> {
    await this.#retryWhileBusy(() => this.#writer.exec("PRAGMA journal_mode = WAL"));
    this.#writer.exec("PRAGMA synchronous = NORMAL");
    await this.#inWriteTransaction(() => {
      this.#writer.exec(`CREATE TABLE IF NOT EXISTS documents (
        path TEXT PRIMARY KEY,
        collection_path TEXT NOT NULL,
        collection_id TEXT NOT NULL,
        id TEXT NOT NULL,
        data TEXT NOT NULL,
        version INTEGER NOT NULL
      ) WITHOUT ROWID`);
      this.#writer.exec("CREATE INDEX IF NOT EXISTS documents_collection ON documents(collection_path, id)");
      this.#writer.exec("CREATE INDEX IF NOT EXISTS documents_group ON documents(collection_id)");
      for (const name of RETIRED_INDEXES) this.#writer.exec(`DROP INDEX IF EXISTS ${name}`);
      for (const [name, collectionId, scope, fields] of INDEXES) {
        this.#writer.exec(
          `CREATE INDEX IF NOT EXISTS ${name} ON documents(${scope}, ${fields.map(fieldExpression).join(", ")}) ` +
            `WHERE collection_id = ${literal(collectionId)}`,
        );
      }
    });
    this.#reader = this.#openReader();
  }

  // --- reads ---------------------------------------------------------------------------------------------------

  get<T extends object = DocumentData>(path: string): Promise<StoredDocument<T> | null> {
    return this.#retryWhileBusy(() => this.#readDocument<T>(this.#readConnection(), path));
  }

  query<T extends object = DocumentData>(query: Query): Promise<StoredDocument<T>[]> {
    return this.#retryWhileBusy(() => this.#runQuery<T>(this.#readConnection(), query));
  }

  // --- writes --------------------------------------------------------------------------------------------------

  create(path: string, data: object): Promise<void> {
    return this.transaction(async (transaction) => {
      transaction.create(path, data);
      return Promise.resolve();
    });
  }

  set(path: string, data: object): Promise<void> {
    return this.transaction(async (transaction) => {
      transaction.set(path, data);
      return Promise.resolve();
    });
  }

  update(path: string, data: object): Promise<void> {
    return this.transaction(async (transaction) => {
      transaction.update(path, data);
      return Promise.resolve();
    });
  }

  delete(path: string): Promise<void> {
    return this.transaction(async (transaction) => {
      transaction.delete(path);
      return Promise.resolve();
    });
  }

  async deleteTree(path: string): Promise<number> {
    splitDocumentPath(path);
    const deleted: string[] = [];
    const count = await this.#inWriteTransaction(() => {
      const rows = this.#statement(this.#writer, "SELECT path FROM documents WHERE path = ? OR (path > ? AND path < ?)")
        .all(path, `${path}/`, `${path}0`)
        .map((row) => String(row.path));
      deleted.push(...rows);
      this.#statement(this.#writer, "DELETE FROM documents WHERE path = ? OR (path > ? AND path < ?)").run(
        path,
        `${path}/`,
        `${path}0`,
      );
      return rows.length;
    });
    this.#notifyLocalCommit(deleted);
    return count;
  }

  async transaction<T>(work: (transaction: Transaction) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const pending: PendingWrite[] = [];
      const run = await this.#inWriteTransactionAsync(
        async () => {
          const value = await work(this.#transactionView(pending));
          // A run lost to a (simulated) concurrent writer is rolled back with nothing applied.
          if (this.#simulatedContention?.(attempt) === true) return { value, lost: true };
          for (const write of pending) this.#apply(write);
          return { value, lost: false };
        },
        (outcome) => outcome.lost,
      );
      if (!run.lost) {
        this.#notifyLocalCommit(pending.map((write) => write.path));
        return run.value;
      }
      if (attempt >= MAX_TRANSACTION_ATTEMPTS) throw new TransactionContentionError();
    }
  }

  /** One run's view of a transaction: reads first, then buffered writes, as Firestore insists. */
  #transactionView(pending: PendingWrite[]): Transaction {
    const readFirst = () => {
      if (pending.length > 0) {
        throw new Error("Firestore transactions require all reads to be executed before all writes.");
      }
    };
    return {
      get: (path) => {
        readFirst();
        return Promise.resolve(this.#readDocument(this.#writer, path));
      },
      getAll: (paths) => {
        readFirst();
        return Promise.resolve(paths.map((path) => this.#readDocument(this.#writer, path)));
      },
      query: (query) => {
        readFirst();
        return Promise.resolve(this.#runQuery(this.#writer, query));
      },
      create: (path, data) => pending.push({ kind: "create", path, data: this.#checked(path, data) }),
      set: (path, data) => pending.push({ kind: "set", path, data: this.#checked(path, data) }),
      update: (path, data) => pending.push({ kind: "update", path, data: this.#checked(path, data) }),
      delete: (path) => {
        splitDocumentPath(path);
        pending.push({ kind: "delete", path });
      },
    };
  }

  /** A write's path and data are checked when the write is made, as the Firestore SDK does. */
  #checked(path: string, data: object): object {
    splitDocumentPath(path);
    return data;
  }

  // --- watching ------------------------------------------------------------------------------------------------

  /** Never fails: a busy database is retried on the next poll, so `onError` is not needed here. */
  watch<T extends object = DocumentData>(
    path: string,
    listener: (document: StoredDocument<T> | null) => void,
  ): Unsubscribe {
    splitDocumentPath(path);
    let watched = this.#watched.get(path);
    if (watched === undefined) {
      watched = { listeners: new Set(), version: null };
      this.#watched.set(path, watched);
    }
    const typedListener = listener as Listener;
    watched.listeners.add(typedListener);
    setImmediate(() => {
      if (!this.#closed && this.#watched.get(path)?.listeners.has(typedListener) === true) {
        const row = this.#statement(this.#readConnection(), "SELECT version, data FROM documents WHERE path = ?").get(
          path,
        );
        if (watched.version === null && row !== undefined) watched.version = Number(row.version);
        typedListener(row === undefined ? null : this.#toDocument(path, String(row.data)));
      }
    });
    this.#watchTimer ??= setInterval(() => this.#pollWatched(), this.#watchIntervalMs).unref();
    return () => {
      const current = this.#watched.get(path);
      current?.listeners.delete(typedListener);
      if (current?.listeners.size === 0) this.#watched.delete(path);
      if (this.#watched.size === 0 && this.#watchTimer !== undefined) {
        clearInterval(this.#watchTimer);
        this.#watchTimer = undefined;
      }
    };
  }

  async ping(): Promise<void> {
    await this.#retryWhileBusy(() => this.#statement(this.#readConnection(), "SELECT 1 AS ok").get());
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#watchTimer !== undefined) clearInterval(this.#watchTimer);
    this.#watched.clear();
    await this.#writeQueue.catch(() => undefined);
    this.#statements.clear();
    this.#reader?.close();
    this.#writer.close();
  }

  // --- internals -----------------------------------------------------------------------------------------------

  #readConnection(): DatabaseSync {
    if (this.#reader === undefined) throw new Error("Database not initialised");
    return this.#reader;
  }

  #statement(connection: DatabaseSync, sql: string): StatementSync {
    const key = `${connection === this.#writer ? "w" : "r"}:${sql}`;
    let statement = this.#statements.get(key);
    if (statement === undefined) {
      statement = connection.prepare(sql);
      this.#statements.set(key, statement);
    }
    return statement;
  }

  #toDocument<T extends object = DocumentData>(path: string, data: string): StoredDocument<T> {
    return { id: splitDocumentPath(path).id, path, data: decode(data) as T };
  }

  #readDocument<T extends object = DocumentData>(connection: DatabaseSync, path: string): StoredDocument<T> | null {
    splitDocumentPath(path);
    const row = this.#statement(connection, "SELECT data FROM documents WHERE path = ?").get(path);
    return row === undefined ? null : this.#toDocument<T>(path, String(row.data));
  }

  #runQuery<T extends object = DocumentData>(connection: DatabaseSync, query: Query): StoredDocument<T>[] {
    assertQueryShape(query);
    if (this.#indexes !== undefined) {
      const missing = missingIndex(query, this.#indexes);
      if (missing !== undefined) throw new InvalidQueryError(`The query requires an index: ${missing}`);
    }
    const collectionId = query.group === true ? query.collection : (query.collection.split("/").at(-1) ?? "");
    const conditions: string[] = [
      `collection_id = ${literal(collectionId)}`,
      ...(query.group === true ? [] : ["collection_path = ?"]),
    ];
    const parameters: SQLInputValue[] = query.group === true ? [] : [query.collection];
    for (const filter of query.where ?? []) this.#addFilter(filter, conditions, parameters);
    const orderings = query.orderBy ?? [];
    for (const order of orderings) {
      if (order.field !== DOCUMENT_ID) conditions.push(`${fieldExpression(order.field)} IS NOT NULL`);
    }
    if (query.startAfter !== undefined) {
      if (query.startAfter.length !== orderings.length) throw new Error("startAfter needs one value per orderBy");
      const alternatives: string[] = [];
      orderings.forEach((order, index) => {
        const equalities = orderings.slice(0, index).map((previous) => `${fieldExpression(previous.field)} = ?`);
        const comparison = `${fieldExpression(order.field)} ${order.direction === "asc" ? ">" : "<"} ?`;
        alternatives.push(`(${[...equalities, comparison].join(" AND ")})`);
        for (const previousValue of (query.startAfter ?? []).slice(0, index))
          parameters.push(toSqlValue(previousValue));
        parameters.push(toSqlValue(query.startAfter?.[index]));
      });
      conditions.push(`(${alternatives.join(" OR ")})`);
    }
    const lastDirection = orderings.at(-1)?.direction ?? "asc";
    const orderSql = [
      ...orderings.map((order) => `${fieldExpression(order.field)} ${order.direction.toUpperCase()}`),
      `path ${lastDirection.toUpperCase()}`,
    ].join(", ");
    const limitSql = query.limit === undefined ? "" : ` LIMIT ${Math.max(0, Math.floor(query.limit))}`;
    const sql = `SELECT path, data FROM documents WHERE ${conditions.join(" AND ")} ORDER BY ${orderSql}${limitSql}`;
    return this.#statement(connection, sql)
      .all(...parameters)
      .map((row) => this.#toDocument<T>(String(row.path), String(row.data)));
  }

  #addFilter(filter: Filter, conditions: string[], parameters: SQLInputValue[]): void {
    const expression = fieldExpression(filter.field);
    if (filter.op === "in") {
      if (!Array.isArray(filter.value)) throw new Error("'in' needs an array");
      const values = filter.value as unknown[];
      if (values.length === 0) {
        conditions.push("0");
        return;
      }
      conditions.push(`${expression} IN (${values.map(() => "?").join(", ")})`);
      parameters.push(...values.map(toSqlValue));
      return;
    }
    if (filter.value === null) {
      if (filter.op !== "==" && filter.op !== "!=") throw new Error("null compares only with == or !=");
      conditions.push(`${expression} IS ${filter.op === "==" ? "" : "NOT "}NULL`);
      return;
    }
    conditions.push(`${expression} ${filter.op === "==" ? "=" : filter.op === "!=" ? "<>" : filter.op} ?`);
    parameters.push(toSqlValue(filter.value));
  }

  #apply(write: PendingWrite): void {
    const { collectionPath, collectionId, id } = splitDocumentPath(write.path);
    if (write.kind === "delete") {
      this.#statement(this.#writer, "DELETE FROM documents WHERE path = ?").run(write.path);
      return;
    }
    let data: object = write.data ?? {};
    if (write.kind === "update") {
      const current = this.#readDocument(this.#writer, write.path);
      if (current === null) throw new DocumentMissingError(write.path);
      data = { ...current.data, ...data };
    }
    const nested = nestedArrayField(data);
    if (nested !== undefined) throw new Error(`Nested arrays are not supported (${nested}): ${write.path}`);
    const encoded = encode(data);
    if (Buffer.byteLength(encoded) > MAX_DOCUMENT_BYTES) throw new Error(`Document too large: ${write.path}`);
    if (write.kind === "create") {
      const result = this.#statement(
        this.#writer,
        "INSERT INTO documents (path, collection_path, collection_id, id, data, version) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(path) DO NOTHING",
      ).run(write.path, collectionPath, collectionId, id, encoded, newVersion());
      if (Number(result.changes) === 0) throw new DocumentExistsError(write.path);
      return;
    }
    this.#statement(
      this.#writer,
      `INSERT INTO documents (path, collection_path, collection_id, id, data, version) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(path) DO UPDATE SET data = excluded.data, version = excluded.version`,
    ).run(write.path, collectionPath, collectionId, id, encoded, newVersion());
  }

  /** Runs `work` inside BEGIN IMMEDIATE ... COMMIT, serialised with every other write of this process. */
  #inWriteTransaction<T>(work: () => T): Promise<T> {
    return this.#inWriteTransactionAsync(() => Promise.resolve(work()));
  }

  /** `discard`: asked with the work's result; true rolls back what it wrote instead of committing. */
  #inWriteTransactionAsync<T>(work: () => Promise<T>, discard: (value: T) => boolean = () => false): Promise<T> {
    const run = async (): Promise<T> => {
      if (this.#closed) throw new DatabaseUnavailableError("The embedded database is closed.");
      await this.#retryWhileBusy(() => this.#writer.exec("BEGIN IMMEDIATE"));
      try {
        const value = await work();
        this.#writer.exec(discard(value) ? "ROLLBACK" : "COMMIT");
        return value;
      } catch (error) {
        if (this.#writer.isOpen) this.#writer.exec("ROLLBACK");
        throw error;
      }
    };
    const result = this.#writeQueue.then(run, run);
    this.#writeQueue = result.catch(() => undefined);
    return result;
  }

  async #retryWhileBusy<T>(operation: () => T): Promise<T> {
    const deadline = Date.now() + this.#lockTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return operation();
      } catch (error) {
        if (!isBusy(error)) throw error;
        if (Date.now() >= deadline) {
          throw new DatabaseUnavailableError("The embedded database stayed locked by another process.", {
            cause: error,
          });
        }
        await sleep(Math.min(5 * 2 ** attempt, 100));
      }
    }
  }

  #notifyLocalCommit(paths: readonly string[]): void {
    if (this.#watched.size === 0) return;
    const touched = paths.filter((path) => this.#watched.has(path));
    if (touched.length > 0) setImmediate(() => this.#deliverChanges(touched));
  }

  #pollWatched(): void {
    if (this.#closed || this.#watched.size === 0) return;
    try {
      const row = this.#statement(this.#readConnection(), "PRAGMA data_version").get();
      const dataVersion = Number(row?.data_version ?? 0);
      if (dataVersion === this.#lastDataVersion) return;
      this.#lastDataVersion = dataVersion;
      this.#deliverChanges([...this.#watched.keys()]);
    } catch (error) {
      if (!isBusy(error)) throw error;
    }
  }

  #deliverChanges(paths: readonly string[]): void {
    if (this.#closed) return;
    try {
      this.#deliverChangesNow(paths);
    } catch (error) {
      if (!isBusy(error)) throw error;
      // Another process holds an exclusive lock: look again on the next poll.
      this.#lastDataVersion = -1;
    }
  }

  #deliverChangesNow(paths: readonly string[]): void {
    for (const path of paths) {
      const watched = this.#watched.get(path);
      if (watched === undefined) continue;
      const row = this.#statement(this.#readConnection(), "SELECT version, data FROM documents WHERE path = ?").get(
        path,
      );
      const version = row === undefined ? null : Number(row.version);
      if (version === watched.version) continue;
      watched.version = version;
      const document = row === undefined ? null : this.#toDocument(path, String(row.data));
      for (const listener of [...watched.listeners]) listener(document);
    }
  }
}
