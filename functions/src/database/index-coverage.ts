import { readFileSync } from "node:fs";
import { DOCUMENT_ID, type Query } from "./query.ts";

/**
 * Firestore answers a query only when an index serves it; the others fail with `FAILED_PRECONDITION` in
 * production (the Firestore emulator does not check). This is that rule, read from `firestore.indexes.json`, so
 * the embedded store refuses the same queries and the index tests can check the query catalogue.
 */

interface IndexField {
  readonly fieldPath: string;
  readonly order?: "ASCENDING" | "DESCENDING";
  readonly arrayConfig?: string;
}

interface CompositeIndex {
  readonly collectionGroup: string;
  readonly queryScope: "COLLECTION" | "COLLECTION_GROUP";
  readonly fields: readonly IndexField[];
}

interface FieldOverride {
  readonly collectionGroup: string;
  readonly fieldPath: string;
  readonly ttl?: boolean;
  readonly indexes: readonly { readonly order?: string; readonly queryScope: string }[];
}

/** The contents of `firestore.indexes.json`. */
export interface IndexDefinitions {
  readonly indexes: readonly CompositeIndex[];
  readonly fieldOverrides: readonly FieldOverride[];
}

/** The project's `firestore.indexes.json`, beside `functions/` (present wherever the embedded store runs). */
const INDEX_FILE = new URL("../../../firestore.indexes.json", import.meta.url);

export function readIndexDefinitions(file: URL | string = INDEX_FILE): IndexDefinitions {
  return JSON.parse(readFileSync(file, "utf8")) as IndexDefinitions;
}

const EQUALITY = new Set(["==", "in"]);

/** Why `query` cannot be served by `definitions`, or undefined when it can. */
export function missingIndex(query: Query, definitions: IndexDefinitions): string | undefined {
  const collectionGroup = query.group === true ? query.collection : (query.collection.split("/").at(-1) ?? "");
  const scope = query.group === true ? "COLLECTION_GROUP" : "COLLECTION";
  const equalities = new Set(
    (query.where ?? []).filter((filter) => EQUALITY.has(filter.op)).map((filter) => filter.field),
  );
  const ordered = (query.orderBy ?? []).filter((order) => order.field !== DOCUMENT_ID);
  const ranges = (query.where ?? [])
    .filter((filter) => !EQUALITY.has(filter.op) && !ordered.some((order) => order.field === filter.field))
    .map((filter) => ({ field: filter.field, direction: "asc" as const }));
  const tail = [...ordered.filter((order) => !equalities.has(order.field)), ...ranges];
  const fields = new Set([...equalities, ...tail.map((item) => item.field)]);

  // Single-field indexes exist for every field of a collection, in both orders, unless an override replaces them
  // (an empty list exempts the field); a collection group has only what an override declares.
  if (fields.size === 0) return undefined;
  if (fields.size === 1) {
    const [field] = [...fields];
    const order = tail[0]?.direction === "desc" ? "DESCENDING" : tail.length > 0 ? "ASCENDING" : undefined;
    const override = definitions.fieldOverrides.find(
      (candidate) => candidate.collectionGroup === collectionGroup && candidate.fieldPath === field,
    );
    if (override === undefined && scope === "COLLECTION") return undefined;
    const served = (override?.indexes ?? []).some(
      (index) => index.queryScope === scope && (order === undefined || index.order === order),
    );
    return served
      ? undefined
      : `a ${scope} single-field index on ${collectionGroup}.${String(field)}${order === undefined ? "" : ` ${order}`}`;
  }
  const wanted = [
    ...[...equalities].map((field) => ({ field, order: undefined })),
    ...tail.map((item) => ({ field: item.field, order: item.direction === "desc" ? "DESCENDING" : "ASCENDING" })),
  ];
  const served = definitions.indexes.some((index) => {
    if (index.collectionGroup !== collectionGroup || index.queryScope !== scope) return false;
    const indexFields = index.fields.filter((field) => field.fieldPath !== "__name__");
    if (indexFields.length !== wanted.length) return false;
    const head = new Set(indexFields.slice(0, equalities.size).map((field) => field.fieldPath));
    if ([...equalities].some((field) => !head.has(field))) return false;
    return wanted.slice(equalities.size).every((item, position) => {
      const indexField = indexFields[equalities.size + position];
      return indexField?.fieldPath === item.field && indexField.order === item.order;
    });
  });
  return served
    ? undefined
    : `a ${scope} composite index on ${collectionGroup} (${wanted.map((item) => `${item.field} ${item.order ?? "any"}`).join(", ")})`;
}
