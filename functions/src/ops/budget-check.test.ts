import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DocumentDatabase } from "../database/document-database.ts";
import { openSqliteDocumentDatabase } from "../database/sqlite-document-database.ts";
import { paths } from "../store/paths.ts";
import { ledgerPeriod, type ChargeRecord, type UsageMonthRecord } from "../store/usage-ledger.ts";
import { extendWithinBudget } from "./budget-check.ts";

describe("extending a running generation's reservation", () => {
  let directory: string;
  let database: DocumentDatabase;
  const at = new Date("2026-12-02T12:00:00Z");
  const period = ledgerPeriod(at);
  const charge: ChargeRecord = {
    month: period.month,
    day: period.day,
    provider: "live",
    kind: "text",
    reserved_micros: 60_000,
  };

  before(async () => {
    directory = mkdtempSync(join(tmpdir(), "atelier-budget-"));
    database = await openSqliteDocumentDatabase(join(directory, "db.sqlite"));
  });
  after(async () => {
    await database.close();
    rmSync(directory, { recursive: true, force: true });
  });

  /** A user with $0.10 a month, one answer running that reserved $0.06. */
  const seed = async (uid: string, status: string) => {
    await database.set(paths.user(uid), { monthly_budget_micros: 100_000 });
    await database.set(paths.usageMonth(uid, period.month, "live"), {
      uid,
      month: period.month,
      provider: "live",
      reserved_micros: 60_000,
      spent_micros: 0,
      requests: 1,
      by_kind: { text: 0, image: 0, video: 0, search: 0 },
      days: {},
      updated_at: at,
    });
    await database.set(paths.message(uid, "msg-1"), { message_id: "msg-1", status, charge });
  };
  const extend = (uid: string, micros: number) =>
    extendWithinBudget(database, {
      uid,
      claims: { tier: undefined },
      budgets: { free: 0, paid: 0 },
      recordPath: paths.message(uid, "msg-1"),
      micros,
      now: at,
    });
  const ledger = async (uid: string) =>
    (await database.get<UsageMonthRecord>(paths.usageMonth(uid, period.month, "live")))?.data.reserved_micros;
  const held = async (uid: string) =>
    (await database.get<{ charge?: ChargeRecord }>(paths.message(uid, "msg-1")))?.data.charge?.reserved_micros;

  it("moves the ledger and the record's charge together while the budget has room", async () => {
    await seed("fits", "streaming");
    assert.equal(await extend("fits", 16_000), true);
    assert.equal(await ledger("fits"), 76_000);
    assert.equal(await held("fits"), 76_000);
  });

  it("refuses what does not fit, changing nothing", async () => {
    await seed("full", "streaming");
    assert.equal(await extend("full", 50_000), false);
    assert.equal(await ledger("full"), 60_000);
    assert.equal(await held("full"), 60_000);
  });

  it("refuses a generation someone else already ended (and settled): nothing more is spent on it", async () => {
    await seed("ended", "aborted");
    assert.equal(await extend("ended", 1_000), false);
    assert.equal(await ledger("ended"), 60_000);
    assert.equal(await extend("gone", 1_000), false);
  });
});
