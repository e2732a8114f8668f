import { AppError } from "../errors/app-error.ts";
import type { Query } from "./query.ts";

/**
 * What Firestore refuses, written down once so that both adapters refuse it alike: the embedded store must not
 * accept what production would reject, or a defect passes every offline test and fails in production.
 */

/** Firestore's limit on a document id, in UTF-8 bytes. */
const MAX_DOCUMENT_ID_BYTES = 1_500;
/** Firestore's limit on the values of one `in`, `not-in` or `array-contains-any` filter. */
const MAX_DISJUNCTION_VALUES = 30;
/** How often Firestore runs a transaction's callback before giving up on contention. */
export const MAX_TRANSACTION_ATTEMPTS = 5;

/** A path whose segment Firestore rejects. Callers should have validated the id first: this is the backstop. */
export class InvalidDocumentPathError extends AppError {
  /** For logs; not shown to the client, since it holds ids. */
  readonly path: string;

  constructor(path: string, reason: string) {
    super("invalid_argument", "Invalid identifier.", { details: { reason } });
    this.name = "InvalidDocumentPathError";
    this.path = path;
  }
}

/** A query Firestore would refuse (too many values, no index). A bug in our query catalogue, not the caller's. */
export class InvalidQueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidQueryError";
  }
}

/** The transaction lost to concurrent writers on every attempt (Firestore's `ABORTED`): the caller may retry. */
export class TransactionContentionError extends AppError {
  constructor(options: { cause?: unknown } = {}) {
    super("resource_exhausted", "This is busy right now. Please try again in a moment.", {
      retryAfterSeconds: 1,
      details: { reason: "contention" },
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
    this.name = "TransactionContentionError";
  }
}

/** Why Firestore would refuse `segment` as a document or collection id, or undefined when it would not. */
export function invalidSegmentReason(segment: string): string | undefined {
  if (segment === "") return "empty";
  if (segment === "." || segment === "..") return "'.' and '..' are not ids";
  if (segment.includes("/")) return "contains '/'";
  if (/^__.*__$/.test(segment)) return "ids of the form __x__ are reserved";
  if (Buffer.byteLength(segment, "utf8") > MAX_DOCUMENT_ID_BYTES) return `longer than ${MAX_DOCUMENT_ID_BYTES} bytes`;
  return undefined;
}

/** Whether Firestore would accept `id` as a document id. */
export function isValidDocumentId(id: string): boolean {
  return invalidSegmentReason(id) === undefined;
}

/** Throws {@link InvalidDocumentPathError} for a path with a segment Firestore rejects. */
export function assertValidPath(path: string): void {
  for (const segment of path.split("/")) {
    const reason = invalidSegmentReason(segment);
    if (reason !== undefined) throw new InvalidDocumentPathError(path, reason);
  }
}

/** Throws {@link InvalidQueryError} for a filter Firestore refuses whatever the indexes. */
export function assertQueryShape(query: Query): void {
  for (const filter of query.where ?? []) {
    if (filter.op === "in" && Array.isArray(filter.value) && filter.value.length > MAX_DISJUNCTION_VALUES) {
      throw new InvalidQueryError(
        `'in' on ${filter.field} has ${filter.value.length} values; Firestore takes at most ${MAX_DISJUNCTION_VALUES}`,
      );
    }
  }
}

/**
 * The field holding an array directly inside an array, which Firestore refuses as a value ("nested arrays are
 * not supported"); undefined when there is none. Maps inside arrays, and arrays inside those maps, are fine.
 */
export function nestedArrayField(value: unknown, field = ""): string | undefined {
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      if (Array.isArray(item)) return `${field}[${String(index)}]`;
      const inner = nestedArrayField(item, `${field}[${String(index)}]`);
      if (inner !== undefined) return inner;
    }
    return undefined;
  }
  if (value === null || typeof value !== "object" || value instanceof Date || Buffer.isBuffer(value)) return undefined;
  for (const [key, item] of Object.entries(value)) {
    const inner = nestedArrayField(item, field === "" ? key : `${field}.${key}`);
    if (inner !== undefined) return inner;
  }
  return undefined;
}
