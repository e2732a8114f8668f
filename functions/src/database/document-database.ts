import { AppError } from "../errors/app-error.ts";
import { assertValidPath } from "./firestore-limits.ts";
import type { Query } from "./query.ts";

/**
 * The data port: a document database with Firestore's shape and guarantees, small enough to implement twice.
 * The domain store (`store/`) is written once against it; the adapters are Firestore (firebase-admin) and
 * SQLite (`node:sqlite`, embedded mode). One contract suite (`document-database.contract.ts`) holds both to
 * the same behaviour.
 *
 * Paths are Firestore paths: `users/u1/chats/c1` is a document, `users/u1/chats` a collection. Values are JSON
 * values plus `Date` (a Firestore Timestamp). Field names are plain identifiers; `a.b` addresses a nested field
 * in filters and ordering only.
 */

export type DocumentData = Record<string, unknown>;

export interface StoredDocument<T extends object = DocumentData> {
  readonly id: string;
  readonly path: string;
  readonly data: T;
}

/** Reads come first, then writes; writes apply together at commit or not at all. */
export interface Transaction {
  get<T extends object = DocumentData>(path: string): Promise<StoredDocument<T> | null>;
  /**
   * Several documents in one round trip (Firestore's `getAll`), in the order asked (null: absent). Separate
   * `get`s cost a round trip each: the first starts the transaction and the others wait for it.
   */
  getAll<T extends object = DocumentData>(paths: readonly string[]): Promise<(StoredDocument<T> | null)[]>;
  query<T extends object = DocumentData>(query: Query): Promise<StoredDocument<T>[]>;
  /** Fails the transaction with {@link DocumentExistsError} if the document exists at commit. */
  create(path: string, data: object): void;
  set(path: string, data: object): void;
  /** Merges top-level fields; fails the transaction with {@link DocumentMissingError} if absent. */
  update(path: string, data: object): void;
  delete(path: string): void;
}

export type Unsubscribe = () => void;

export interface DocumentDatabase {
  get<T extends object = DocumentData>(path: string): Promise<StoredDocument<T> | null>;
  query<T extends object = DocumentData>(query: Query): Promise<StoredDocument<T>[]>;
  create(path: string, data: object): Promise<void>;
  set(path: string, data: object): Promise<void>;
  update(path: string, data: object): Promise<void>;
  delete(path: string): Promise<void>;
  /** Deletes a document and every document beneath it; returns how many were deleted. */
  deleteTree(path: string): Promise<number>;
  /**
   * Runs `work` atomically. It may run more than once (Firestore retries on contention), so it must do
   * nothing but reads and writes through the transaction, and no slow I/O.
   */
  transaction<T>(work: (transaction: Transaction) => Promise<T>): Promise<T>;
  /**
   * Calls `listener` with the document now and on every change until unsubscribed (`null`: absent).
   * `onError` hears a broken watch (Firestore listener failure); the watch is over after it.
   */
  watch<T extends object = DocumentData>(
    path: string,
    listener: (document: StoredDocument<T> | null) => void,
    onError?: (error: unknown) => void,
  ): Unsubscribe;
  /** Proves the backend answers; throws otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export class DocumentExistsError extends Error {
  readonly path: string;

  constructor(path: string) {
    super(`Document already exists: ${path}`);
    this.name = "DocumentExistsError";
    this.path = path;
  }
}

export class DocumentMissingError extends Error {
  readonly path: string;

  constructor(path: string) {
    super(`No document to update: ${path}`);
    this.name = "DocumentMissingError";
    this.path = path;
  }
}

/** The backend could not be reached or stayed locked past its timeout: nothing was written. */
export class DatabaseUnavailableError extends AppError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super("unavailable", message, options.cause === undefined ? {} : { cause: options.cause });
    this.name = "DatabaseUnavailableError";
  }
}

/** Firestore's limit on one document; the embedded adapter enforces it too so both behave alike. */
export const MAX_DOCUMENT_BYTES = 1_048_576;

/**
 * Splits a document path into its collection path and id, checking its shape and that Firestore would accept
 * every segment (`.`, `..`, `__x__` and ids over 1,500 bytes are refused).
 */
export function splitDocumentPath(path: string): { collectionPath: string; collectionId: string; id: string } {
  const segments = path.split("/");
  if (segments.length < 2 || segments.length % 2 !== 0) throw new Error(`Not a document path: ${path}`);
  assertValidPath(path);
  const id = segments[segments.length - 1] ?? "";
  const collectionId = segments[segments.length - 2] ?? "";
  return { collectionPath: segments.slice(0, -1).join("/"), collectionId, id };
}
