import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { DOCUMENT_ID, type Query } from "../database/document-database.ts";
import { QUERY_EXAMPLES } from "./queries.ts";

/**
 * Firestore answers a query only when an index covers it. These tests read `firestore.indexes.json` and fail
 * when a query in the catalog has no index, or when code queries outside the catalog.
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

const sourceRoot = fileURLToPath(new URL("../", import.meta.url));
const indexFile = JSON.parse(readFileSync(new URL("../../../firestore.indexes.json", import.meta.url), "utf8")) as {
  indexes: CompositeIndex[];
  fieldOverrides: FieldOverride[];
};

const EQUALITY = new Set(["==", "in"]);

/** Why `query` cannot be served by the declared indexes, or undefined when it can. */
export function missingIndex(query: Query): string | undefined {
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

  if (fields.size <= 1 && scope === "COLLECTION") return undefined;
  if (fields.size === 1 && scope === "COLLECTION_GROUP") {
    const [field] = [...fields];
    const covered = indexFile.fieldOverrides.some(
      (override) =>
        override.collectionGroup === collectionGroup &&
        override.fieldPath === field &&
        override.indexes.some((index) => index.queryScope === "COLLECTION_GROUP"),
    );
    return covered ? undefined : `a COLLECTION_GROUP single-field index on ${collectionGroup}.${String(field)}`;
  }
  const wanted = [
    ...[...equalities].map((field) => ({ field, order: undefined })),
    ...tail.map((item) => ({ field: item.field, order: item.direction === "desc" ? "DESCENDING" : "ASCENDING" })),
  ];
  const served = indexFile.indexes.some((index) => {
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

function sourceFiles(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith(".ts") && !name.endsWith(".test.ts") && !name.endsWith(".contract.ts") ? [path] : [];
  });
}

describe("Firestore index coverage", () => {
  for (const [name, query] of Object.entries(QUERY_EXAMPLES)) {
    it(`covers the ${name} query`, () => {
      const missing = missingIndex(query);
      assert.equal(missing, undefined, `firestore.indexes.json needs ${String(missing)}`);
    });
  }

  it("would notice a query without an index", () => {
    const uncovered: Query = {
      collection: "users/u/messages",
      where: [{ field: "role", op: "==", value: "user" }],
      orderBy: [{ field: "created_at", direction: "desc" }],
    };
    assert.match(
      missingIndex(uncovered) ?? "",
      /COLLECTION composite index on messages \(role any, created_at DESCENDING\)/,
    );
  });

  it("enables the TTL policy on request mappings' expire_at", () => {
    assert.ok(
      indexFile.fieldOverrides.some(
        (override) =>
          override.collectionGroup === "requests" && override.fieldPath === "expire_at" && override.ttl === true,
      ),
    );
  });

  it("finds no query written outside the catalog", () => {
    const offenders: string[] = [];
    for (const file of sourceFiles(sourceRoot)) {
      const relativePath = relative(sourceRoot, file);
      if (relativePath.startsWith("database/") || relativePath.startsWith("test-support/")) continue;
      const text = readFileSync(file, "utf8");
      for (const match of text.matchAll(/\.query(?:<[^>(]*>)?\(\s*(?!queries\.)(\S)/g)) {
        offenders.push(`${relativePath}: ${match[0]}`);
      }
    }
    assert.deepEqual(offenders, [], "query through store/queries.ts so the index test sees it");
  });
});
