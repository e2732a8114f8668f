import type {
  DocumentDatabase,
  StoredDocument,
  Transaction,
  Unsubscribe,
} from "../../functions/src/database/document-database.ts";
import type { Query } from "../../functions/src/database/query.ts";

/**
 * The embedded store with Firestore's network round trips put back: every read, query and write waits `readMs`
 * or `writeMs` first, and a transaction waits for each of its reads and once more for its commit. It answers as
 * the real database does otherwise. `waits` counts the round trips made so far, so a caller can tell how many
 * happened sequentially between two moments (at one stream at a time).
 */
export class LatencyDatabase implements DocumentDatabase {
  readonly #inner: DocumentDatabase;
  readonly #readMs: number;
  readonly #writeMs: number;
  waits = 0;

  constructor(inner: DocumentDatabase, latency: { readonly readMs: number; readonly writeMs: number }) {
    this.#inner = inner;
    this.#readMs = latency.readMs;
    this.#writeMs = latency.writeMs;
  }

  async #wait(ms: number): Promise<void> {
    this.waits += 1;
    await new Promise((resolve) => setTimeout(resolve, ms));
  }

  async get<T extends object>(path: string): Promise<StoredDocument<T> | null> {
    await this.#wait(this.#readMs);
    return this.#inner.get<T>(path);
  }

  async query<T extends object>(query: Query): Promise<StoredDocument<T>[]> {
    await this.#wait(this.#readMs);
    return this.#inner.query<T>(query);
  }

  async create(path: string, data: object): Promise<void> {
    await this.#wait(this.#writeMs);
    await this.#inner.create(path, data);
  }

  async set(path: string, data: object): Promise<void> {
    await this.#wait(this.#writeMs);
    await this.#inner.set(path, data);
  }

  async update(path: string, data: object): Promise<void> {
    await this.#wait(this.#writeMs);
    await this.#inner.update(path, data);
  }

  async delete(path: string): Promise<void> {
    await this.#wait(this.#writeMs);
    await this.#inner.delete(path);
  }

  async deleteTree(path: string): Promise<number> {
    await this.#wait(this.#writeMs);
    return this.#inner.deleteTree(path);
  }

  /**
   * A transaction pays its round trips (one per read, one for the commit) after the embedded store's own
   * transaction: holding that lock across simulated network waits would serialise every request, which
   * Firestore does not. The caller waits as long in all, in sequence.
   */
  async transaction<T>(work: (transaction: Transaction) => Promise<T>): Promise<T> {
    let reads = 0;
    const counting = (transaction: Transaction): Transaction => ({
      get: (path) => {
        reads += 1;
        return transaction.get(path);
      },
      query: (query) => {
        reads += 1;
        return transaction.query(query);
      },
      create: (path, data) => {
        transaction.create(path, data);
      },
      set: (path, data) => {
        transaction.set(path, data);
      },
      update: (path, data) => {
        transaction.update(path, data);
      },
      delete: (path) => {
        transaction.delete(path);
      },
    });
    const result = await this.#inner.transaction((transaction) => work(counting(transaction)));
    for (let read = 0; read < reads; read += 1) await this.#wait(this.#readMs);
    await this.#wait(this.#writeMs);
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
