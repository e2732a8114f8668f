import type { Transaction } from "../database/document-database.ts";
import { ForwardingDatabase, observedTransaction } from "./forwarding-database.ts";

/**
 * The real database, with a tally of the writes made to each document (transactional ones included) and of
 * the reads transactions make of it (each one a round trip in Firestore). It changes nothing: every call goes
 * straight through. Tests and benchmarks use it to measure write cost and round trips.
 */
export class CountingDatabase extends ForwardingDatabase {
  readonly writes = new Map<string, number>();
  readonly transactionReads = new Map<string, number>();

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

  override async create(path: string, data: object): Promise<void> {
    await this.inner.create(path, data);
    this.#count(path);
  }

  override async set(path: string, data: object): Promise<void> {
    await this.inner.set(path, data);
    this.#count(path);
  }

  override async update(path: string, data: object): Promise<void> {
    await this.inner.update(path, data);
    this.#count(path);
  }

  override async delete(path: string): Promise<void> {
    await this.inner.delete(path);
    this.#count(path);
  }

  override async transaction<T>(work: (transaction: Transaction) => Promise<T>): Promise<T> {
    let written: string[] = [];
    let read: string[] = [];
    const result = await this.inner.transaction(async (transaction) => {
      written = [];
      read = [];
      return work(
        observedTransaction(transaction, { read: (paths) => read.push(...paths), wrote: (path) => written.push(path) }),
      );
    });
    for (const path of written) this.#count(path);
    for (const path of read) this.transactionReads.set(path, (this.transactionReads.get(path) ?? 0) + 1);
    return result;
  }
}
