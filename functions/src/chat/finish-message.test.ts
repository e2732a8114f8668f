import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DocumentDatabase } from "../database/document-database.ts";
import { openSqliteDocumentDatabase } from "../database/sqlite-document-database.ts";
import { paths } from "../store/paths.ts";
import type { MessageRecord, ToolCallRecord } from "../store/records.ts";
import { finishMessage } from "./finish-message.ts";

/** How an answer with tool calls ends: no call is left open, and a stop is never turned into a question. */
describe("finishing an answer that called tools", () => {
  let directory: string;
  let database: DocumentDatabase;
  const uid = "u1";
  const at = new Date("2026-12-02T12:00:00Z");

  before(async () => {
    directory = mkdtempSync(join(tmpdir(), "atelier-finish-"));
    database = await openSqliteDocumentDatabase(join(directory, "db.sqlite"));
  });
  after(async () => {
    await database.close();
    rmSync(directory, { recursive: true, force: true });
  });

  const call = (id: string, status: ToolCallRecord["status"]): ToolCallRecord => ({
    call_id: id,
    name: "generate_video",
    arguments_json: JSON.stringify({ prompt: "waves" }),
    status,
    step: 0,
    offset: 5,
  });
  const streaming = async (id: string, fields: Partial<MessageRecord> = {}) => {
    const message: MessageRecord = {
      message_id: id,
      chat_id: "chat-1",
      seq: 2,
      role: "assistant",
      type: "text",
      content: "Sure.",
      status: "streaming",
      request_id: `req-${id}`,
      created_at: at,
      updated_at: at,
      ...fields,
    };
    await database.set(paths.message(uid, id), message);
    return message;
  };

  it("ends an answer stopped while it paused for approval, instead of asking: the call is declined", async () => {
    await streaming("m1", { stop_requested_at: at });
    const finished = await finishMessage(
      database,
      uid,
      "m1",
      {
        status: "awaiting_approval",
        content: "Sure.",
        fields: { tool_calls: [call("call-1", "awaiting_approval")], approval_expires_at: new Date(at.getTime() + 1) },
      },
      at,
    );
    assert.equal(finished?.status, "aborted");
    assert.equal(finished.error, "Stopped by the user.");
    assert.equal(finished.approval_expires_at, undefined);
    assert.deepEqual(
      finished.tool_calls?.map((stored) => [stored.status, stored.ok]),
      [["declined", false]],
    );
  });

  it("leaves no call running when an answer ends midway", async () => {
    await streaming("m2");
    const finished = await finishMessage(
      database,
      uid,
      "m2",
      {
        status: "aborted",
        error: { code: "aborted", message: "Stopped by the user." },
        fields: { tool_calls: [{ ...call("call-1", "done"), ok: true }, call("call-2", "running")] },
      },
      at,
    );
    assert.deepEqual(
      finished?.tool_calls?.map((stored) => [stored.call_id, stored.status, stored.error]),
      [
        ["call-1", "done", undefined],
        ["call-2", "error", "The answer ended before this call finished."],
      ],
    );
  });
});
