import type { DocumentDatabase } from "../database/document-database.ts";
import type { ConversationTurn } from "../providers/text-provider.ts";
import { queries } from "../store/queries.ts";
import type { MessageRecord } from "../store/records.ts";

/**
 * What the model sees of a chat: its most recent messages, newest first until `maxMessages` or `maxCharacters`
 * is reached (the new message always goes in whole), then put back in order. Finished text answers go in as
 * they are; generated media as a short note; failed or unfinished answers not at all. Attachments are sent
 * with the new message only, as the clean re-encodings the turn's checks made of them.
 */
export interface ConversationLimits {
  readonly maxMessages: number;
  readonly maxCharacters: number;
}

function turnText(message: MessageRecord): string | undefined {
  if (message.role === "user") return message.content;
  if (message.status !== "done") return undefined;
  if (message.type === "image") return `[An image was generated for this request.]`;
  if (message.type === "video") return `[A video was generated for this request.]`;
  return message.content === "" ? undefined : message.content;
}

/** An image sent to the model with the new message. */
export type ConversationImage = NonNullable<ConversationTurn["images"]>[number];

/** What the model sees of the chat an existing answer belongs to, up to that answer. */
export async function loadConversation(
  database: DocumentDatabase,
  uid: string,
  assistant: Pick<MessageRecord, "chat_id" | "seq">,
  newImages: readonly ConversationImage[],
  limits: ConversationLimits,
): Promise<ConversationTurn[]> {
  const recent = await messagesOfChat(database, uid, assistant.chat_id, assistant.seq, limits.maxMessages);
  return conversationOf(recent, newImages, limits);
}

/** A chat's messages before `beforeSeq`, newest first, at most `limit`. */
async function messagesOfChat(
  database: DocumentDatabase,
  uid: string,
  chatId: string,
  beforeSeq: number,
  limit: number,
): Promise<MessageRecord[]> {
  const found = await database.query<MessageRecord>(queries.recentChatMessages(uid, chatId, beforeSeq, limit));
  return found.map((document) => document.data);
}

/**
 * The latest messages of a chat, newest first: read while the transaction that starts a turn runs, not after, so
 * the model is called one round trip sooner. Two more than a turn keeps, in case the read sees the turn's own.
 */
export async function prefetchLatestMessages(
  database: DocumentDatabase,
  uid: string,
  chatId: string,
  limits: ConversationLimits,
): Promise<MessageRecord[]> {
  if (limits.maxMessages <= 1) return [];
  return messagesOfChat(database, uid, chatId, Number.MAX_SAFE_INTEGER, limits.maxMessages + 1);
}

/**
 * The messages of the chat before a new turn's own, newest first, as many as the conversation keeps: from the
 * prefetch when it reaches right up to the turn, otherwise (another turn of the chat committed between the
 * prefetch and this one) read again, exactly.
 */
export async function messagesBefore(
  database: DocumentDatabase,
  uid: string,
  userMessage: Pick<MessageRecord, "chat_id" | "seq">,
  prefetched: Promise<readonly MessageRecord[]>,
  limits: ConversationLimits,
): Promise<MessageRecord[]> {
  const keep = Math.max(0, limits.maxMessages - 1);
  if (keep === 0 || userMessage.seq <= 1) return [];
  const earlier = (await prefetched).filter((message) => message.seq < userMessage.seq).slice(0, keep);
  // Seqs have no gaps (no single message is ever deleted): the prefetch is enough when it holds each one.
  const complete =
    earlier.length === Math.min(keep, userMessage.seq - 1) &&
    earlier.every((message, index) => message.seq === userMessage.seq - 1 - index);
  if (complete) return earlier;
  return messagesOfChat(database, uid, userMessage.chat_id, userMessage.seq, keep);
}

/** The conversation from a chat's messages, newest first, the new message first of all (see the limits above). */
export function conversationOf(
  recent: readonly MessageRecord[],
  newImages: readonly ConversationImage[],
  limits: ConversationLimits,
): ConversationTurn[] {
  const turns: ConversationTurn[] = [];
  let characters = 0;
  for (const [position, message] of recent.slice(0, limits.maxMessages).entries()) {
    const text = turnText(message);
    if (text === undefined) continue;
    if (position > 0 && characters + text.length > limits.maxCharacters) break;
    characters += text.length;
    if (position === 0 && newImages.length > 0) {
      turns.push({ role: "user", text, images: newImages });
    } else {
      turns.push({ role: message.role === "user" ? "user" : "model", text });
    }
  }
  turns.reverse();
  while (turns[0]?.role === "model") turns.shift();
  return turns;
}
