/**
 * A second operating-system process touching the same embedded database, as emulator workers do.
 *   increment <file> <counter path> <times>   transactional read-modify-write, <times> times
 *   hold-lock <file> <milliseconds>           holds an exclusive write lock, then releases it
 */
import { DatabaseSync } from "node:sqlite";
import { setTimeout as sleep } from "node:timers/promises";
import { openSqliteDocumentDatabase } from "../database/sqlite-document-database.ts";

const [command, file, ...rest] = process.argv.slice(2);
if (file === undefined) throw new Error("usage: <command> <file> ...");

if (command === "increment") {
  const [counterPath = "", timesText = "0"] = rest;
  const database = await openSqliteDocumentDatabase(file, { lockTimeoutMs: 30_000 });
  for (let index = 0; index < Number(timesText); index++) {
    await database.transaction(async (transaction) => {
      const current = await transaction.get<{ value: number }>(counterPath);
      transaction.set(counterPath, { value: (current?.data.value ?? 0) + 1 });
    });
  }
  await database.close();
} else if (command === "hold-lock") {
  const connection = new DatabaseSync(file);
  connection.exec("BEGIN EXCLUSIVE");
  process.stdout.write("locked\n");
  await sleep(Number(rest[0] ?? "1000"));
  connection.exec("COMMIT");
  connection.close();
} else {
  throw new Error(`unknown command ${String(command)}`);
}
