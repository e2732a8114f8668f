import type { DocumentDatabase, StoredDocument, Transaction } from "../database/document-database.ts";
import type { Query } from "../database/query.ts";
import { ForwardingDatabase, observedTransaction } from "./forwarding-database.ts";

/** One round trip: when it started and ended (`performance.now()`). */
interface RoundTrip {
  readonly start: number;
  readonly end: number;
}

/**
 * The embedded store with Firestore's network round trips put back: every read, query and write waits `readMs`
 * or `writeMs` first, and a transaction waits for its reads and once more for its commit. It answers as the real
 * database does otherwise. Every round trip is recorded, so a caller can tell how many happened one after
 * another between two moments ({@link sequentialRoundTrips}), parallel ones counting once.
 */
export class LatencyDatabase extends ForwardingDatabase {
  readonly #readMs: number;
  readonly #writeMs: number;
  readonly #roundTrips: RoundTrip[] = [];

  constructor(inner: DocumentDatabase, latency: { readonly readMs: number; readonly writeMs: number }) {
    super(inner);
    this.#readMs = latency.readMs;
    this.#writeMs = latency.writeMs;
  }

  async #wait(ms: number): Promise<void> {
    const start = performance.now();
    await new Promise((resolve) => setTimeout(resolve, ms));
    this.#roundTrips.push({ start, end: performance.now() });
    // Only the recent past is ever asked about.
    if (this.#roundTrips.length > 10_000) this.#roundTrips.splice(0, 5_000);
  }

  /**
   * The longest chain of round trips between `from` and `to`, each starting after the one before it ended: the
   * round trips a request waited for in sequence (measure one request at a time).
   */
  sequentialRoundTrips(from: number, to: number): number {
    const within = this.#roundTrips
      .filter((trip) => trip.start >= from && trip.end <= to)
      .sort((a, b) => a.end - b.end);
    const depth: number[] = [];
    for (const [index, trip] of within.entries()) {
      let before = 0;
      for (let earlier = 0; earlier < index; earlier += 1) {
        const other = within[earlier];
        if (other !== undefined && other.end <= trip.start) before = Math.max(before, depth[earlier] ?? 0);
      }
      depth.push(before + 1);
    }
    return Math.max(0, ...depth);
  }

  override async get<T extends object>(path: string): Promise<StoredDocument<T> | null> {
    await this.#wait(this.#readMs);
    return this.inner.get<T>(path);
  }

  override async query<T extends object>(query: Query): Promise<StoredDocument<T>[]> {
    await this.#wait(this.#readMs);
    return this.inner.query<T>(query);
  }

  override async create(path: string, data: object): Promise<void> {
    await this.#wait(this.#writeMs);
    await this.inner.create(path, data);
  }

  override async set(path: string, data: object): Promise<void> {
    await this.#wait(this.#writeMs);
    await this.inner.set(path, data);
  }

  override async update(path: string, data: object): Promise<void> {
    await this.#wait(this.#writeMs);
    await this.inner.update(path, data);
  }

  override async delete(path: string): Promise<void> {
    await this.#wait(this.#writeMs);
    await this.inner.delete(path);
  }

  override async deleteTree(path: string): Promise<number> {
    await this.#wait(this.#writeMs);
    return this.inner.deleteTree(path);
  }

  /**
   * A transaction pays its round trips after the embedded store's own transaction: holding that lock across
   * simulated network waits would serialise every request, which Firestore does not. The caller waits as long
   * in all, in sequence, as the Firestore SDK would make it wait: one round trip for each batch of reads issued
   * together (a `getAll` is one read), plus one when the first batch held several reads (the SDK starts the
   * transaction with the first and sends the others once it has the transaction's id), plus the commit.
   */
  override async transaction<T>(work: (transaction: Transaction) => Promise<T>): Promise<T> {
    // Assigned in closures, so kept in an object (TypeScript narrows plain variables as if they never changed).
    const reads = { roundTrips: 0, batchOpen: false, firstBatchShared: false };
    const read = () => {
      if (reads.batchOpen) {
        if (reads.roundTrips === 1) reads.firstBatchShared = true;
        return;
      }
      reads.batchOpen = true;
      reads.roundTrips += 1;
      queueMicrotask(() => (reads.batchOpen = false));
    };
    const result = await this.inner.transaction((transaction) => {
      // A rerun (contention) pays again from nothing: the last run is the one that committed.
      Object.assign(reads, { roundTrips: 0, batchOpen: false, firstBatchShared: false });
      return work(observedTransaction(transaction, { read, wrote: () => undefined }));
    });
    const waits = reads.roundTrips + (reads.firstBatchShared ? 1 : 0);
    for (let wait = 0; wait < waits; wait += 1) await this.#wait(this.#readMs);
    await this.#wait(this.#writeMs);
    return result;
  }
}
