import type { DocumentDatabase, StoredDocument, Transaction, Unsubscribe } from "../database/document-database.ts";
import type { Query } from "../database/query.ts";

/**
 * A document database that passes every call to another one. Wrappers that observe the store (counting writes,
 * adding latency) extend it and override only what they observe.
 */
export class ForwardingDatabase implements DocumentDatabase {
  protected readonly inner: DocumentDatabase;

  constructor(inner: DocumentDatabase) {
    this.inner = inner;
  }

  get<T extends object>(path: string): Promise<StoredDocument<T> | null> {
    return this.inner.get<T>(path);
  }

  query<T extends object>(query: Query): Promise<StoredDocument<T>[]> {
    return this.inner.query<T>(query);
  }

  create(path: string, data: object): Promise<void> {
    return this.inner.create(path, data);
  }

  set(path: string, data: object): Promise<void> {
    return this.inner.set(path, data);
  }

  update(path: string, data: object): Promise<void> {
    return this.inner.update(path, data);
  }

  delete(path: string): Promise<void> {
    return this.inner.delete(path);
  }

  deleteTree(path: string): Promise<number> {
    return this.inner.deleteTree(path);
  }

  transaction<T>(work: (transaction: Transaction) => Promise<T>): Promise<T> {
    return this.inner.transaction(work);
  }

  watch<T extends object>(
    path: string,
    listener: (document: StoredDocument<T> | null) => void,
    onError?: (error: unknown) => void,
  ): Unsubscribe {
    return this.inner.watch(path, listener, onError);
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** A transaction that tells `observer` of each read (the paths it names; none for a query) and each write. */
export function observedTransaction(
  transaction: Transaction,
  observer: { readonly read: (paths: readonly string[]) => void; readonly wrote: (path: string) => void },
): Transaction {
  return {
    get: (path) => {
      observer.read([path]);
      return transaction.get(path);
    },
    getAll: (paths) => {
      observer.read(paths);
      return transaction.getAll(paths);
    },
    query: (query) => {
      observer.read([]);
      return transaction.query(query);
    },
    create: (path, data) => {
      observer.wrote(path);
      transaction.create(path, data);
    },
    set: (path, data) => {
      observer.wrote(path);
      transaction.set(path, data);
    },
    update: (path, data) => {
      observer.wrote(path);
      transaction.update(path, data);
    },
    delete: (path) => {
      observer.wrote(path);
      transaction.delete(path);
    },
  };
}
