import { InvalidDocumentPathError, invalidSegmentReason } from "../database/firestore-limits.ts";

/** An id as one path segment: one Firestore would refuse (or a `/` that would nest the path) never becomes one. */
function segment(id: string): string {
  const reason = invalidSegmentReason(id);
  if (reason !== undefined) throw new InvalidDocumentPathError(id, reason);
  return id;
}

/**
 * Where each kind of document lives. The layout is Firestore's (and the security rules' and indexes'):
 * everything a user owns sits under `users/{uid}`, so ownership is part of every path and another user's
 * document is simply not found.
 */
export const paths = {
  user: (uid: string) => `users/${segment(uid)}`,
  chats: (uid: string) => `users/${segment(uid)}/chats`,
  chat: (uid: string, chatId: string) => `users/${segment(uid)}/chats/${segment(chatId)}`,
  messages: (uid: string) => `users/${segment(uid)}/messages`,
  message: (uid: string, messageId: string) => `users/${segment(uid)}/messages/${segment(messageId)}`,
  requests: (uid: string) => `users/${segment(uid)}/requests`,
  request: (uid: string, requestId: string) => `users/${segment(uid)}/requests/${segment(requestId)}`,
  jobs: (uid: string) => `users/${segment(uid)}/jobs`,
  job: (uid: string, jobId: string) => `users/${segment(uid)}/jobs/${segment(jobId)}`,
  usage: (uid: string) => `users/${segment(uid)}/usage`,
  /** A month's spending ledger (`YYYY-MM`); the labelled simulations keep theirs apart. */
  usageMonth: (uid: string, month: string, provider: "live" | "simulated") =>
    `users/${segment(uid)}/usage/${segment(provider === "live" ? month : `${month}-simulated`)}`,
  counter: (uid: string, name: string) => `users/${segment(uid)}/counters/${segment(name)}`,
  /**
   * A deleted account's tombstone: refuses work from its still-valid tokens, and tells the sweep to purge once
   * more when they have all expired. Outside `users/{uid}`, so the purge does not take it.
   */
  deletedAccount: (uid: string) => `deleted_accounts/${segment(uid)}`,
  /** Service API keys: no user owns them, and no client rule reaches them. */
  apiKeys: () => "api_keys",
  apiKey: (keyId: string) => `api_keys/${segment(keyId)}`,
  deletedAccounts: "deleted_accounts",
  /** Where the media sweep's walk through the bucket has got to (server-only; no user's). */
  mediaSweepCursor: "_atelier/media-sweep",
} as const;

/** The owner of a document under `users/{uid}/...`. */
export function ownerOf(path: string): string {
  const [root, uid] = path.split("/");
  if (root !== "users" || uid === undefined) throw new Error(`Not a user document: ${path}`);
  return uid;
}
