import type { App } from "firebase-admin/app";
import type {
  DocumentSnapshot,
  Firestore,
  Query as FirestoreQuery,
  Transaction as FirestoreTransaction,
} from "firebase-admin/firestore";
import {
  DatabaseUnavailableError,
  DocumentExistsError,
  DocumentMissingError,
  splitDocumentPath,
  type DocumentData,
  type DocumentDatabase,
  type StoredDocument,
  type Transaction,
  type Unsubscribe,
} from "./document-database.ts";
import { DOCUMENT_ID, type Query } from "./query.ts";
import { assertQueryShape, TransactionContentionError } from "./firestore-limits.ts";

/**
 * The Firestore adapter: a thin translation of the port onto firebase-admin. Dates go in as they are (the SDK
 * stores them as Timestamps) and Timestamps come out as Dates, so services see the same values in both modes.
 */

type FirestoreModule = typeof import("firebase-admin/firestore");

/** gRPC status codes Firestore reports. */
const ALREADY_EXISTS = 6;
const NOT_FOUND = 5;
/** Contention: the transaction lost to other writers on every one of the SDK's attempts. */
const ABORTED = 10;
const UNAVAILABLE_CODES = new Set([4, 8, 13, 14]);

function grpcCode(error: unknown): number | undefined {
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "number"
    ? error.code
    : undefined;
}

function translateError(error: unknown, path?: string): unknown {
  const code = grpcCode(error);
  if (code === ALREADY_EXISTS && path !== undefined) return new DocumentExistsError(path);
  if (code === NOT_FOUND && path !== undefined) return new DocumentMissingError(path);
  if (code === ABORTED) return new TransactionContentionError({ cause: error });
  if (code !== undefined && UNAVAILABLE_CODES.has(code)) {
    return new DatabaseUnavailableError("Firestore is unavailable.", { cause: error });
  }
  return error;
}

/** Instances whose settings were applied: `settings()` may run once per instance, before its first use. */
const configured = new WeakSet<Firestore>();

/**
 * Opens the app's default database. The app keeps one instance, and `settings()` throws when called on it a
 * second time, so it is applied once: services rebuilt after a failed start-up reach the real error rather than
 * "Firestore has already been initialized".
 */
export async function openFirestoreDocumentDatabase(app: App): Promise<FirestoreDocumentDatabase> {
  const firestoreModule = await import("firebase-admin/firestore");
  const firestore = firestoreModule.getFirestore(app);
  if (!configured.has(firestore)) {
    firestore.settings({ ignoreUndefinedProperties: true });
    configured.add(firestore);
  }
  return new FirestoreDocumentDatabase(firestore, firestoreModule);
}

class FirestoreDocumentDatabase implements DocumentDatabase {
  readonly #firestore: Firestore;
  readonly #module: FirestoreModule;

  constructor(firestore: Firestore, firestoreModule: FirestoreModule) {
    this.#firestore = firestore;
    this.#module = firestoreModule;
  }

  async get<T extends object = DocumentData>(path: string): Promise<StoredDocument<T> | null> {
    splitDocumentPath(path);
    try {
      return this.#fromSnapshot<T>(await this.#firestore.doc(path).get());
    } catch (error) {
      throw translateError(error);
    }
  }

  async query<T extends object = DocumentData>(query: Query): Promise<StoredDocument<T>[]> {
    try {
      const snapshot = await this.#buildQuery(query).get();
      return snapshot.docs.map((document) => this.#fromSnapshot<T>(document)).filter((document) => document !== null);
    } catch (error) {
      throw translateError(error);
    }
  }

  async create(path: string, data: object): Promise<void> {
    splitDocumentPath(path);
    try {
      await this.#firestore.doc(path).create(data);
    } catch (error) {
      throw translateError(error, path);
    }
  }

  async set(path: string, data: object): Promise<void> {
    splitDocumentPath(path);
    try {
      await this.#firestore.doc(path).set(data);
    } catch (error) {
      throw translateError(error);
    }
  }

  async update(path: string, data: object): Promise<void> {
    splitDocumentPath(path);
    try {
      await this.#firestore.doc(path).update(data);
    } catch (error) {
      throw translateError(error, path);
    }
  }

  async delete(path: string): Promise<void> {
    splitDocumentPath(path);
    try {
      await this.#firestore.doc(path).delete();
    } catch (error) {
      throw translateError(error);
    }
  }

  async deleteTree(path: string): Promise<number> {
    splitDocumentPath(path);
    const writer = this.#firestore.bulkWriter();
    let deleted = 0;
    writer.onWriteResult(() => {
      deleted += 1;
    });
    try {
      await this.#firestore.recursiveDelete(this.#firestore.doc(path), writer);
      return deleted;
    } catch (error) {
      throw translateError(error);
    }
  }

  async transaction<T>(work: (transaction: Transaction) => Promise<T>): Promise<T> {
    let lastWritePath: string | undefined;
    try {
      return await this.#firestore.runTransaction(async (firestoreTransaction) =>
        work(this.#wrapTransaction(firestoreTransaction, (path) => (lastWritePath = path))),
      );
    } catch (error) {
      throw translateError(error, lastWritePath);
    }
  }

  watch<T extends object = DocumentData>(
    path: string,
    listener: (document: StoredDocument<T> | null) => void,
    onError?: (error: unknown) => void,
  ): Unsubscribe {
    splitDocumentPath(path);
    return this.#firestore.doc(path).onSnapshot(
      (snapshot) => listener(this.#fromSnapshot<T>(snapshot)),
      (error) => onError?.(translateError(error)),
    );
  }

  async ping(): Promise<void> {
    try {
      await this.#firestore.doc("_atelier/health").get();
    } catch (error) {
      throw translateError(error);
    }
  }

  async close(): Promise<void> {
    await this.#firestore.terminate();
  }

  #wrapTransaction(firestoreTransaction: FirestoreTransaction, noteWrite: (path: string) => void): Transaction {
    return {
      get: async <T extends object = DocumentData>(path: string) =>
        this.#fromSnapshot<T>(await firestoreTransaction.get(this.#firestore.doc(path))),
      getAll: async <T extends object = DocumentData>(paths: readonly string[]) => {
        if (paths.length === 0) return [];
        const snapshots = await firestoreTransaction.getAll(...paths.map((path) => this.#firestore.doc(path)));
        return snapshots.map((snapshot) => this.#fromSnapshot<T>(snapshot));
      },
      query: async <T extends object = DocumentData>(query: Query) => {
        const snapshot = await firestoreTransaction.get(this.#buildQuery(query));
        return snapshot.docs.map((document) => this.#fromSnapshot<T>(document)).filter((document) => document !== null);
      },
      create: (path, data) => {
        noteWrite(path);
        firestoreTransaction.create(this.#firestore.doc(path), data);
      },
      set: (path, data) => {
        firestoreTransaction.set(this.#firestore.doc(path), data);
      },
      update: (path, data) => {
        noteWrite(path);
        firestoreTransaction.update(this.#firestore.doc(path), data);
      },
      delete: (path) => {
        firestoreTransaction.delete(this.#firestore.doc(path));
      },
    };
  }

  #buildQuery(query: Query): FirestoreQuery {
    assertQueryShape(query);
    const fieldPath = (field: string) => (field === DOCUMENT_ID ? this.#module.FieldPath.documentId() : field);
    let built: FirestoreQuery =
      query.group === true
        ? this.#firestore.collectionGroup(query.collection)
        : this.#firestore.collection(query.collection);
    for (const filter of query.where ?? []) built = built.where(fieldPath(filter.field), filter.op, filter.value);
    for (const order of query.orderBy ?? []) built = built.orderBy(fieldPath(order.field), order.direction);
    if (query.startAfter !== undefined) built = built.startAfter(...query.startAfter);
    if (query.limit !== undefined) built = built.limit(query.limit);
    return built;
  }

  #fromSnapshot<T extends object = DocumentData>(snapshot: DocumentSnapshot): StoredDocument<T> | null {
    const data = snapshot.data();
    if (data === undefined) return null;
    return { id: snapshot.id, path: snapshot.ref.path, data: this.#toPlain(data) as T };
  }

  /** Timestamps become Dates, recursively. */
  #toPlain(value: unknown): unknown {
    if (value instanceof this.#module.Timestamp) return value.toDate();
    if (Array.isArray(value)) return value.map((item) => this.#toPlain(item));
    if (typeof value === "object" && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, this.#toPlain(item)]));
    }
    return value;
  }
}
