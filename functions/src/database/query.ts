/** A query of the document database: Firestore's shape (filters, ordering, limit, a cursor). */

type FilterOperator = "==" | "!=" | "<" | "<=" | ">" | ">=" | "in";

export interface Filter {
  readonly field: string;
  readonly op: FilterOperator;
  readonly value: unknown;
}

/** `DOCUMENT_ID` orders by the document id (collection queries only). */
export const DOCUMENT_ID = "__id__";

interface Order {
  readonly field: string;
  readonly direction: "asc" | "desc";
}

export interface Query {
  /** A collection path, or a collection id when `group` is true (a collection-group query). */
  readonly collection: string;
  readonly group?: boolean;
  readonly where?: readonly Filter[];
  readonly orderBy?: readonly Order[];
  readonly limit?: number;
  /** Cursor: one value per `orderBy` entry; results start after the document with these values. */
  readonly startAfter?: readonly unknown[];
}
