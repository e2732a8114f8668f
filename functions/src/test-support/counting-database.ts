import type { DocumentDatabase, StoredDocument, Transaction, Unsubscribe } from "../database/document-database.ts";
import type { Query } from "../database/query.ts";

/**
 * The real database, with a tally of the writes made to each document (transactional ones included) and of
 * the reads transactions make of it (each one a round trip in Firestore). It changes nothing: every call goes
 * straight through. Tests and benchmarks use it to measure write cost and round trips.
 */
export class CountingDatabase implements DocumentDatabase {
  readonly #inner: DocumentDatabase;
  readonly writes = new Map<string, number>();
  readonly transactionReads = new Map<string, number>();

  constructor(inner: DocumentDatabase) {
    this.#inner = inner;
  }

  writesTo(path: string): number {
    return this.writes.get(path) ?? 0;
  }

  /** Reads of `path` inside transactions (the attempts that committed). */
  transactionReadsOf(path: string): number {
    return this.transactionReads.get(path) ?? 0;
  }

  #count(path: string): void {
    this.writes.set(path, (this.writes.get(path) ?? 0) + 1);
  }

  get<T extends object>(path: string): Promise<StoredDocument<T> | null> {
    return this.#inner.get<T>(path);
  }

  query<T extends object>(query: Query): Promise<StoredDocument<T>[]> {
    return this.#inner.query<T>(query);
  }

  async create(path: string, data: object): Promise<void> {
    await this.#inner.create(path, data);
    this.#count(path);
  }

  async set(path: string, data: object): Promise<void> {
    await this.#inner.set(path, data);
    this.#count(path);
  }

  async update(path: string, data: object): Promise<void> {
    await this.#inner.update(path, data);
    this.#count(path);
  }

  async delete(path: string): Promise<void> {
    await this.#inner.delete(path);
    this.#count(path);
  }

  deleteTree(path: string): Promise<number> {
    return this.#inner.deleteTree(path);
  }

  async transaction<T>(work: (transaction: Transaction) => Promise<T>): Promise<T> {
    let written: string[] = [];
    let read: string[] = [];
    const result = await this.#inner.transaction(async (transaction) => {
      written = [];
      read = [];
      const counted: Transaction = {
        get: (path) => {
          read.push(path);
          return transaction.get(path);
        },
        getAll: (paths) => {
          read.push(...paths);
          return transaction.getAll(paths);
        },
        query: (query) => transaction.query(query),
        create: (path, data) => {
          written.push(path);
          transaction.create(path, data);
        },
        set: (path, data) => {
          written.push(path);
          transaction.set(path, data);
        },
        update: (path, data) => {
          written.push(path);
          transaction.update(path, data);
        },
        delete: (path) => {
          written.push(path);
          transaction.delete(path);
        },
      };
      return work(counted);
    });
    for (const path of written) this.#count(path);
    for (const path of read) this.transactionReads.set(path, (this.transactionReads.get(path) ?? 0) + 1);
    return result;
  }

  watch<T extends object>(
    path: string,
    listener: (document: StoredDocument<T> | null) => void,
    onError?: (error: unknown) => void,
  ): Unsubscribe {
    return this.#inner.watch(path, listener, onError);
  }

  ping(): Promise<void> {
    return this.#inner.ping();
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}
