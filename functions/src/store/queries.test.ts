import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { Query } from "../database/query.ts";
import { missingIndex as coverage, readIndexDefinitions } from "../database/index-coverage.ts";
import { QUERY_EXAMPLES } from "./queries.ts";

/**
 * Firestore answers a query only when an index covers it. These tests read `firestore.indexes.json` and fail
 * when a query in the catalog has no index, or when code queries outside the catalog.
 */

const sourceRoot = fileURLToPath(new URL("../", import.meta.url));
const definitions = readIndexDefinitions();
const missingIndex = (query: Query) => coverage(query, definitions);

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

  it("knows an override replaces a field's automatic indexes: an exempt field serves no query", () => {
    const exempt: Query = { collection: "users/u/messages", orderBy: [{ field: "content", direction: "asc" }] };
    assert.match(missingIndex(exempt) ?? "", /single-field index on messages\.content ASCENDING/);
    const descending: Query = {
      collection: "users/u/chats",
      orderBy: [{ field: "deleting_since", direction: "desc" }],
    };
    assert.match(missingIndex(descending) ?? "", /deleting_since DESCENDING/, "only the orders the override lists");
  });

  it("enables the TTL policy on request mappings' expire_at", () => {
    assert.ok(
      definitions.fieldOverrides.some(
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
