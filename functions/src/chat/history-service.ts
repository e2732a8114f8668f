import type { Chat, Message } from "../contract/resources.ts";
import type { BlobStore } from "../blobs/blob-store.ts";
import type { DocumentDatabase } from "../database/document-database.ts";
import { invalidArgument, notFound } from "../errors/app-error.ts";
import { CLIENT_ID_PATTERN } from "../contract/identifiers.ts";
import { paths } from "../store/paths.ts";
import { queries } from "../store/queries.ts";
import { lastSignOfLife, type ChatRecord, type MessageRecord } from "../store/records.ts";
import { servedMedia } from "../store/served-media.ts";
import { finishMessage } from "./finish-message.ts";
import { toolCallView } from "./tool-call-view.ts";
import { usageView } from "../store/usage-ledger.ts";

const INTERNAL_FIELDS = new Set([
  "seq",
  "stop_requested_at",
  "attached_at",
  "grounding_requested",
  "video_path",
  "video_url",
  "poster_path",
  "poster_url",
  "images",
  "request_id",
  "alive_at",
  "charge",
]);

/**
 * A stored message as clients see it: dates as ISO strings, internal control fields left out, and its media as
 * `servedMedia` shows them (URLs recorded at completion, re-signed where they expire; a lost object flagged).
 */
export async function toApiMessage(record: MessageRecord, blobs: BlobStore): Promise<Message> {
  const message: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    if (INTERNAL_FIELDS.has(key) || value === undefined) continue;
    message[key] = value instanceof Date ? value.toISOString() : value;
  }
  if (record.tool_calls !== undefined) message.tool_calls = record.tool_calls.map(toolCallView);
  if (record.usage !== undefined) message.usage = usageView(record.usage);
  return { ...message, ...(await servedMedia(record, blobs)) } as Message;
}

export function toApiChat(chat: ChatRecord): Chat {
  return {
    chat_id: chat.chat_id,
    title: chat.title,
    created_at: chat.created_at.toISOString(),
    updated_at: chat.updated_at.toISOString(),
  };
}

function encodeCursor(values: readonly unknown[]): string {
  return Buffer.from(JSON.stringify(values.map((value) => (value instanceof Date ? value.getTime() : value)))).toString(
    "base64url",
  );
}

function decodeCursor(cursor: string, shape: readonly ("date" | "string" | "number")[]): unknown[] {
  try {
    const values: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (!Array.isArray(values) || values.length !== shape.length) throw new Error("shape");
    return values.map((value: unknown, index) => {
      const kind = shape[index];
      // Within Firestore's Timestamp range (years 1 to 9999), which refuses anything else with a plain error.
      if (kind === "date" && Number.isSafeInteger(value) && Math.abs(value as number) <= 253_402_300_799_000) {
        return new Date(value as number);
      }
      if (kind === "number" && typeof value === "number") return value;
      // Strings in our cursors are document ids: a forged one must not reach the database as a path.
      if (kind === "string" && typeof value === "string" && CLIENT_ID_PATTERN.test(value)) return value;
      throw new Error("type");
    });
  } catch {
    throw invalidArgument("Invalid cursor.", { cursor: "Use the next_cursor of a previous page" });
  }
}

export interface Page {
  readonly limit: number;
  readonly cursor: string | undefined;
}

/** When an answer that shows no sign of life counts as dead, and the clock to judge it by. */
interface StalenessRule {
  readonly staleStreamMs: number;
  readonly now: () => number;
}

export class HistoryService {
  readonly #database: DocumentDatabase;
  readonly #blobs: BlobStore;
  readonly #staleness: StalenessRule;

  constructor(database: DocumentDatabase, blobs: BlobStore, staleness: StalenessRule) {
    this.#database = database;
    this.#blobs = blobs;
    this.#staleness = staleness;
  }

  /**
   * A message still `streaming` whose generator has shown no sign of life for the staleness window died with its
   * instance: it is ended `aborted` (keeping its partial content) here, on read, rather than showing a spinner
   * until the next sweep. A generator that renewed `alive_at` meanwhile keeps its message.
   */
  async #settled(message: MessageRecord, uid: string): Promise<MessageRecord> {
    const { staleStreamMs, now } = this.#staleness;
    if (message.status !== "streaming" || now() - lastSignOfLife(message).getTime() < staleStreamMs) return message;
    const ended = await finishMessage(
      this.#database,
      uid,
      message.message_id,
      { status: "aborted", error: { code: "aborted", message: "The answer was interrupted and did not finish." } },
      new Date(now()),
      new Date(now() - staleStreamMs),
    );
    return ended ?? message;
  }

  /** The caller's chats, most recently active first. */
  async listChats(uid: string, page: Page): Promise<{ chats: Chat[]; next_cursor: string | null }> {
    const found = await this.#database.query<ChatRecord>(
      queries.chatsByActivity(
        uid,
        page.limit + 1,
        page.cursor === undefined ? undefined : decodeCursor(page.cursor, ["date", "string"]),
      ),
    );
    const visible = found.slice(0, page.limit);
    const last = visible.at(-1);
    return {
      // A chat being deleted is gone for its owner already (a page may then hold fewer than `limit`).
      chats: visible
        .filter((document) => document.data.deleting_since === undefined)
        .map((document) => toApiChat(document.data)),
      next_cursor:
        found.length > page.limit && last !== undefined ? encodeCursor([last.data.updated_at, last.id]) : null,
    };
  }

  /** One chat and a page of its messages, oldest first. */
  async getChat(
    uid: string,
    chatId: string,
    page: Page,
  ): Promise<{ chat: Chat; messages: Message[]; next_cursor: string | null }> {
    const chat = await this.#database.get<ChatRecord>(paths.chat(uid, chatId));
    if (chat === null || chat.data.deleting_since !== undefined) throw notFound("Chat");
    const found = await this.#database.query<MessageRecord>(
      queries.chatMessages(
        uid,
        chatId,
        page.limit + 1,
        page.cursor === undefined ? undefined : (decodeCursor(page.cursor, ["number"])[0] as number),
      ),
    );
    const visible = found.slice(0, page.limit);
    const last = visible.at(-1);
    return {
      chat: toApiChat(chat.data),
      messages: await Promise.all(
        visible.map(async (document) => toApiMessage(await this.#settled(document.data, uid), this.#blobs)),
      ),
      next_cursor: found.length > page.limit && last !== undefined ? encodeCursor([last.data.seq]) : null,
    };
  }
}
