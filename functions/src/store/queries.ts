import { DOCUMENT_ID, type Query } from "../database/query.ts";
import type { JobStatus } from "../contract/resources.ts";
import { paths } from "./paths.ts";

/**
 * Every query Atelier makes, by name. Firestore serves a query only if an index covers it, so the code queries
 * through this catalog only (a test fails on a query written anywhere else) and a second test checks each entry
 * against `firestore.indexes.json`. `QUERY_EXAMPLES` lists one instance of each shape for that check.
 */

const ACTIVE_JOB_STATUSES: readonly JobStatus[] = ["queued", "running"];

export const queries = {
  /** A user's chats, most recently active first (history list). */
  chatsByActivity: (uid: string, limit: number, startAfter?: readonly unknown[]): Query => ({
    collection: paths.chats(uid),
    orderBy: [
      { field: "updated_at", direction: "desc" },
      { field: DOCUMENT_ID, direction: "desc" },
    ],
    limit,
    ...(startAfter === undefined ? {} : { startAfter }),
  }),

  /** A chat's messages in order (history of one chat). */
  chatMessages: (uid: string, chatId: string, limit: number, afterSeq?: number): Query => ({
    collection: paths.messages(uid),
    where: [{ field: "chat_id", op: "==", value: chatId }],
    orderBy: [{ field: "seq", direction: "asc" }],
    limit,
    ...(afterSeq === undefined ? {} : { startAfter: [afterSeq] }),
  }),

  /** The newest messages of a chat before a given one (the conversation sent to the model). */
  recentChatMessages: (uid: string, chatId: string, beforeSeq: number, limit: number): Query => ({
    collection: paths.messages(uid),
    where: [
      { field: "chat_id", op: "==", value: chatId },
      { field: "seq", op: "<", value: beforeSeq },
    ],
    orderBy: [{ field: "seq", direction: "desc" }],
    limit,
  }),

  /** Documents of one chat in a user collection (for deleting the chat). */
  chatDocuments: (collection: string, chatId: string, limit: number): Query => ({
    collection,
    where: [{ field: "chat_id", op: "==", value: chatId }],
    limit,
  }),

  /** A user's unfinished jobs (the per-user active-job limit). */
  activeJobsOfUser: (uid: string, limit: number): Query => ({
    collection: paths.jobs(uid),
    where: [{ field: "status", op: "in", value: ACTIVE_JOB_STATUSES }],
    limit,
  }),

  /** A chat's unfinished jobs (the per-chat active-job limit). */
  activeJobsOfChat: (uid: string, chatId: string, limit: number): Query => ({
    collection: paths.jobs(uid),
    where: [
      { field: "chat_id", op: "==", value: chatId },
      { field: "status", op: "in", value: ACTIVE_JOB_STATUSES },
    ],
    limit,
  }),

  /** Request mappings past their retention, every user (cleanup). */
  requestsCreatedBefore: (cutoff: Date, limit: number): Query => ({
    collection: "requests",
    group: true,
    where: [{ field: "created_at", op: "<", value: cutoff }],
    orderBy: [{ field: "created_at", direction: "asc" }],
    limit,
  }),

  /**
   * Messages left `streaming` with no sign of life (`alive_at`, renewed at most every 30 s) since `cutoff`, every
   * user (cleanup).
   */
  silentStreams: (cutoff: Date, limit: number): Query => ({
    collection: "messages",
    group: true,
    where: [
      { field: "status", op: "==", value: "streaming" },
      { field: "alive_at", op: "<", value: cutoff },
    ],
    orderBy: [{ field: "alive_at", direction: "asc" }],
    limit,
  }),

  /** Answers waiting for an approval that lapsed before `at`, every user (cleanup). */
  lapsedApprovals: (at: Date, limit: number): Query => ({
    collection: "messages",
    group: true,
    where: [
      { field: "status", op: "==", value: "awaiting_approval" },
      { field: "approval_expires_at", op: "<", value: at },
    ],
    orderBy: [{ field: "approval_expires_at", direction: "asc" }],
    limit,
  }),

  /** Messages left `pending` (waiting for a job) with no write since `cutoff`, every user (cleanup). */
  stalePendingMessages: (cutoff: Date, limit: number): Query => ({
    collection: "messages",
    group: true,
    where: [
      { field: "status", op: "==", value: "pending" },
      { field: "updated_at", op: "<", value: cutoff },
    ],
    orderBy: [{ field: "updated_at", direction: "asc" }],
    limit,
  }),

  /** Deleted accounts due for their second purge (every token of theirs has expired by `now`). */
  accountsToPurgeAgain: (now: Date, limit: number): Query => ({
    collection: paths.deletedAccounts,
    where: [{ field: "purge_again_at", op: "<=", value: now }],
    orderBy: [{ field: "purge_again_at", direction: "asc" }],
    limit,
  }),

  /** Service API keys, newest first (the admin list). */
  apiKeysNewestFirst: (limit: number): Query => ({
    collection: paths.apiKeys(),
    orderBy: [{ field: "created_at", direction: "desc" }],
    limit,
  }),

  /** Chats whose deletion started before `cutoff` and has not finished, every user (cleanup). */
  chatsBeingDeleted: (cutoff: Date, limit: number): Query => ({
    collection: "chats",
    group: true,
    where: [{ field: "deleting_since", op: "<", value: cutoff }],
    orderBy: [{ field: "deleting_since", direction: "asc" }],
    limit,
  }),

  /** Unfinished jobs past their `abandon_at` (no delivery can still move them), every user (cleanup). */
  abandonedJobs: (now: Date, limit: number): Query => ({
    collection: "jobs",
    group: true,
    where: [
      { field: "status", op: "in", value: ACTIVE_JOB_STATUSES },
      { field: "abandon_at", op: "<=", value: now },
    ],
    orderBy: [{ field: "abandon_at", direction: "asc" }],
    limit,
  }),

  /** Finished jobs whose media outlived `MEDIA_RETENTION_DAYS`, every user (cleanup). */
  jobsWithExpiredMedia: (cutoff: Date, limit: number): Query => ({
    collection: "jobs",
    group: true,
    where: [
      { field: "status", op: "==", value: "done" },
      { field: "media_deleted", op: "==", value: false },
      { field: "completed_at", op: "<", value: cutoff },
    ],
    orderBy: [{ field: "completed_at", direction: "asc" }],
    limit,
  }),

  /** A user's spending ledgers, every month (the account export). */
  usageMonthsOfUser: (uid: string, limit: number): Query => ({ collection: paths.usage(uid), limit }),

  /** Every user's spending ledger for one month and provider run, biggest spender first (the admin report). */
  usageByMonth: (
    month: string,
    provider: "live" | "simulated",
    limit: number,
    startAfter?: readonly unknown[],
  ): Query => ({
    collection: "usage",
    group: true,
    where: [
      { field: "month", op: "==", value: month },
      { field: "provider", op: "==", value: provider },
    ],
    orderBy: [
      { field: "spent_micros", direction: "desc" },
      { field: "uid", direction: "asc" },
    ],
    limit,
    ...(startAfter === undefined ? {} : { startAfter }),
  }),
} as const;

type QueryName = keyof typeof queries;

const when = new Date(0);

/** One query of each shape, for the index coverage test. */
export const QUERY_EXAMPLES: Readonly<Record<QueryName, Query>> = {
  chatsByActivity: queries.chatsByActivity("u", 10, [when, "c"]),
  chatMessages: queries.chatMessages("u", "c", 10, 3),
  recentChatMessages: queries.recentChatMessages("u", "c", 3, 10),
  chatDocuments: queries.chatDocuments(paths.messages("u"), "c", 10),
  activeJobsOfUser: queries.activeJobsOfUser("u", 10),
  activeJobsOfChat: queries.activeJobsOfChat("u", "c", 10),
  requestsCreatedBefore: queries.requestsCreatedBefore(when, 10),
  silentStreams: queries.silentStreams(when, 10),
  lapsedApprovals: queries.lapsedApprovals(when, 10),
  stalePendingMessages: queries.stalePendingMessages(when, 10),
  abandonedJobs: queries.abandonedJobs(when, 10),
  chatsBeingDeleted: queries.chatsBeingDeleted(when, 10),
  accountsToPurgeAgain: queries.accountsToPurgeAgain(when, 10),
  jobsWithExpiredMedia: queries.jobsWithExpiredMedia(when, 10),
  apiKeysNewestFirst: queries.apiKeysNewestFirst(10),
  usageMonthsOfUser: queries.usageMonthsOfUser("u", 10),
  usageByMonth: queries.usageByMonth("2026-12", "live", 10, [0, "u"]),
};
