import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DocumentDatabase } from "../database/document-database.ts";
import { openSqliteDocumentDatabase } from "../database/sqlite-document-database.ts";
import { AppError } from "../errors/app-error.ts";
import { RateLimiter } from "./rate-limiter.ts";

describe("RateLimiter (token bucket in the store)", () => {
  let directory: string;
  let database: DocumentDatabase;
  let now = 0;

  before(async () => {
    directory = mkdtempSync(join(tmpdir(), "atelier-rate-"));
    database = await openSqliteDocumentDatabase(join(directory, "db.sqlite"));
  });
  after(async () => {
    await database.close();
    rmSync(directory, { recursive: true, force: true });
  });
  beforeEach(() => {
    now = 1_000_000;
  });

  const limited = async (promise: Promise<void>) => {
    try {
      await promise;
    } catch (error) {
      assert.ok(error instanceof AppError);
      assert.equal(error.code, "resource_exhausted");
      return error.retryAfterSeconds ?? -1;
    }
    return undefined;
  };

  it("allows exactly the burst at once, then refuses with the wait until the next token", async () => {
    const limiter = new RateLimiter(database, { perMinute: 60, burst: 5, now: () => now });
    for (let index = 0; index < 5; index++) assert.equal(await limited(limiter.consume("burst-user")), undefined);
    assert.equal(await limited(limiter.consume("burst-user")), 1);
  });

  it("refills at the per-minute rate", async () => {
    const limiter = new RateLimiter(database, { perMinute: 6, burst: 1, now: () => now });
    await limiter.consume("refill-user");
    assert.equal(await limited(limiter.consume("refill-user")), 10);
    now += 9_000;
    assert.equal(await limited(limiter.consume("refill-user")), 1);
    now += 1_000;
    assert.equal(await limited(limiter.consume("refill-user")), undefined);
  });

  it("cannot be overshot by concurrent requests", async () => {
    const limiter = new RateLimiter(database, { perMinute: 60, burst: 4, now: () => now });
    const outcomes = await Promise.all(Array.from({ length: 12 }, () => limited(limiter.consume("race-user"))));
    assert.equal(outcomes.filter((outcome) => outcome === undefined).length, 4);
  });

  it("keeps users apart", async () => {
    const limiter = new RateLimiter(database, { perMinute: 60, burst: 1, now: () => now });
    await limiter.consume("first");
    assert.equal(await limited(limiter.consume("second")), undefined);
  });
});
