import { createHash } from "node:crypto";
import type { DocumentDatabase } from "../database/document-database.ts";
import { decideAll, readTogether, type TransactionCheck } from "./transaction-check.ts";
import { AppError, notFound } from "../errors/app-error.ts";
import { newId } from "./ids.ts";
import { paths } from "./paths.ts";
import type { ChatRecord, JobRecord, MessageRecord, RequestKind, RequestRecord } from "./records.ts";
import type { Attachment, MessageStatus, MessageType, ProviderRun } from "../contract/resources.ts";

/**
 * Starting a generation (a chat answer, an image, a video) is one transaction, so a request either creates all
 * of its documents or none, and a `request_id` maps to exactly one set of them however many times, and however
 * concurrently, it is sent:
 *
 * - `users/{uid}/requests/{request_id}` exists with the same kind and payload: nothing is created, the caller
 *   replays or resumes what it points to; with another kind or payload: `409 conflict`.
 * - otherwise: the chat (new, or the caller's existing one: someone else's is `404`), the user message, the
 *   assistant message, the request mapping and, for media, the job, after every check (quotas, limits) passed
 *   inside the same transaction, so concurrent requests cannot overshoot a limit.
 *
 * Every document the transaction reads (the account's tombstone, the request, the chat, what the checks need)
 * is read together, in one round trip, so starting costs two round trips to Firestore: the read and the commit.
 */

interface BeginGenerationInput {
  readonly uid: string;
  readonly requestId: string;
  readonly kind: RequestKind;
  readonly payloadHash: string;
  /** An existing chat of the caller's, or undefined for a new chat titled `title`. */
  readonly chatId: string | undefined;
  readonly title: string;
  /**
   * The user's message that asks for the generation; absent when the ask is already in the chat (a tool the
   * chat model called): then only the assistant's message is added.
   */
  readonly userMessage?: { readonly content: string; readonly attachments?: readonly Attachment[] };
  readonly assistantMessage: {
    readonly type: MessageType;
    readonly status: Extract<MessageStatus, "streaming" | "pending">;
    readonly model: string;
    readonly provider: ProviderRun;
    /** Extra fields for the assistant message (e.g. `grounding: []` while sources are fetched). */
    readonly fields?: Partial<MessageRecord>;
  };
  /** For media generations: the job document, given the ids chosen here. */
  readonly job?: {
    readonly idPrefix: string;
    readonly build: (ids: { jobId: string; chatId: string; messageId: string }) => JobRecord;
  };
  /**
   * What admits the request at all, a replay included (the caller's rate limit, a stream slot): their writes
   * are made whether the request starts a generation or finds the one it started before.
   */
  readonly admissions?: readonly TransactionCheck[];
  /** What a new generation must pass (quotas, budgets): made only when the request starts one. */
  readonly checks: readonly TransactionCheck[];
  readonly now: Date;
  readonly requestRetentionDays: number;
}

type GenerationStart =
  | {
      readonly created: true;
      readonly request: RequestRecord;
      /** The user's message, when the request added one. */
      readonly userMessage: MessageRecord | undefined;
      readonly assistant: MessageRecord;
      readonly job: JobRecord | undefined;
    }
  | { readonly created: false; readonly request: RequestRecord };

/** A stable fingerprint of a request's meaning: the same payload always hashes the same. */
export function payloadHash(kind: RequestKind, payload: unknown): string {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (typeof value === "object" && value !== null) {
      return Object.fromEntries(
        Object.entries(value)
          .filter(([, item]) => item !== undefined)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([key, item]) => [key, canonical(item)]),
      );
    }
    return value;
  };
  return createHash("sha256")
    .update(JSON.stringify([kind, canonical(payload)]))
    .digest("hex");
}

/** The text a new chat is titled with: the first line of its first message, shortened on a word boundary. */
export function chatTitle(text: string, maxLength = 60): string {
  const firstLine = text.trim().split(/\r?\n/)[0]?.replace(/\s+/g, " ").trim() ?? "";
  if (firstLine === "") return "New chat";
  if (firstLine.length <= maxLength) return firstLine;
  const cut = firstLine.slice(0, maxLength - 1);
  const boundary = cut.lastIndexOf(" ");
  return `${(boundary > maxLength / 2 ? cut.slice(0, boundary) : cut).trimEnd()}…`;
}

const DAY_MILLISECONDS = 86_400_000;

export async function beginGeneration(
  database: DocumentDatabase,
  input: BeginGenerationInput,
): Promise<GenerationStart> {
  const { uid, now } = input;
  const admissions = input.admissions ?? [];
  const requestPath = paths.request(uid, input.requestId);
  const chatPath = input.chatId === undefined ? undefined : paths.chat(uid, input.chatId);
  return database.transaction(async (transaction): Promise<GenerationStart> => {
    const documents = await readTogether(
      transaction,
      [paths.deletedAccount(uid), requestPath, ...(chatPath === undefined ? [] : [chatPath])],
      [...admissions, ...input.checks],
    );
    // Admissions first, in every attempt, so what they recorded of an earlier attempt never outlives it.
    const admitted = await decideAll(documents, transaction, admissions);
    // A token still valid after its account was deleted starts nothing (the deletion would not see it).
    if (documents.data(paths.deletedAccount(uid)) !== undefined) {
      throw new AppError("unauthenticated", "This account was deleted.");
    }
    const existing = documents.data<RequestRecord>(requestPath);
    if (existing !== undefined) {
      if (existing.kind !== input.kind || existing.payload_hash !== input.payloadHash) {
        throw new AppError("conflict", "This request_id was already used for a different request.", {
          details: { request_id: input.requestId },
        });
      }
      for (const write of admitted) write(transaction);
      return { created: false, request: existing };
    }

    let chat: ChatRecord | undefined;
    if (chatPath !== undefined) {
      chat = documents.data<ChatRecord>(chatPath);
      // A chat being deleted takes nothing new: its deletion could not finish otherwise.
      if (chat === undefined || chat.deleting_since !== undefined) throw notFound("Chat");
    }
    const writes = [...admitted, ...(await decideAll(documents, transaction, input.checks))];

    const chatId = chat?.chat_id ?? newId("chat");
    const messageCount = chat?.message_count ?? 0;
    const messageId = newId("msg");
    const jobId = input.job === undefined ? undefined : newId(input.job.idPrefix);

    const asked = input.userMessage;
    const userMessage: MessageRecord | undefined =
      asked === undefined
        ? undefined
        : {
            message_id: newId("msg"),
            chat_id: chatId,
            seq: messageCount + 1,
            role: "user",
            type: "text",
            content: asked.content,
            status: "done",
            request_id: input.requestId,
            created_at: now,
            updated_at: now,
            ...(asked.attachments === undefined || asked.attachments.length === 0
              ? {}
              : { attachments: asked.attachments }),
          };
    const added = userMessage === undefined ? 1 : 2;
    const assistant: MessageRecord = {
      message_id: messageId,
      chat_id: chatId,
      seq: messageCount + added,
      role: "assistant",
      type: input.assistantMessage.type,
      content: "",
      status: input.assistantMessage.status,
      request_id: input.requestId,
      created_at: now,
      updated_at: now,
      ...(input.assistantMessage.status === "streaming" ? { alive_at: now } : {}),
      model: input.assistantMessage.model,
      provider: input.assistantMessage.provider,
      ...(jobId === undefined ? {} : { job_id: jobId }),
      ...input.assistantMessage.fields,
    };
    const request: RequestRecord = {
      request_id: input.requestId,
      kind: input.kind,
      payload_hash: input.payloadHash,
      chat_id: chatId,
      ...(userMessage === undefined ? {} : { user_message_id: userMessage.message_id }),
      message_id: messageId,
      status: input.assistantMessage.status === "streaming" ? "streaming" : "queued",
      created_at: now,
      updated_at: now,
      expire_at: new Date(now.getTime() + input.requestRetentionDays * DAY_MILLISECONDS),
      ...(jobId === undefined ? {} : { job_id: jobId }),
    };
    const job =
      input.job !== undefined && jobId !== undefined ? input.job.build({ jobId, chatId, messageId }) : undefined;

    for (const write of writes) write(transaction);
    const chatRecord: ChatRecord = {
      chat_id: chatId,
      title: chat?.title ?? input.title,
      created_at: chat?.created_at ?? now,
      updated_at: now,
      message_count: messageCount + added,
    };
    transaction.set(paths.chat(uid, chatId), chatRecord);
    if (userMessage !== undefined) transaction.create(paths.message(uid, userMessage.message_id), userMessage);
    transaction.create(paths.message(uid, messageId), assistant);
    transaction.create(paths.request(uid, input.requestId), request);
    if (job !== undefined) transaction.create(paths.job(uid, job.job_id), job);
    return { created: true, request, userMessage, assistant, job };
  });
}
