import type { BlobStore } from "../blobs/blob-store.ts";
import type { AccountDirectory, IdTokenVerifier } from "../auth/id-token-verifier.ts";
import { toApiChat, toApiMessage } from "../chat/history-service.ts";
import type { AccountExport, Chat, Message } from "../contract/resources.ts";
import type { DocumentDatabase } from "../database/document-database.ts";
import type { JobLedger } from "../jobs/job-ledger.ts";
import type { Logger } from "../logging/logger.ts";
import { paths } from "../store/paths.ts";
import { dollarsOf, type UsageMonthRecord } from "../store/usage-ledger.ts";
import { queries } from "../store/queries.ts";
import type { ChatRecord, DeletedAccountRecord, JobRecord, MessageRecord } from "../store/records.ts";

/** How long an ID token lives (one hour), and a margin: after this, no token of a deleted account works. */
const TOKEN_LIFETIME_MS = 65 * 60_000;
/** How long a tombstone is kept: well past every token, then Firestore's TTL removes it. */
const TOMBSTONE_KEPT_MS = 2 * 86_400_000;

interface AccountServiceOptions {
  readonly database: DocumentDatabase;
  readonly blobs: BlobStore;
  readonly ledger: JobLedger;
  readonly directory: AccountDirectory;
  readonly verifier: IdTokenVerifier;
  readonly logger: Logger;
  readonly now: () => number;
  /** Documents per query. */
  readonly batchSize: number;
}

/**
 * The whole of a user's data: deleting it (`DELETE /account`, and the Auth trigger for a user deleted in the
 * console) and exporting it (`GET /account/export`).
 *
 * Deletion runs in an order that a repeat can always finish: sessions are revoked first (no new ID tokens; this
 * instance forgets the user at once, others within `AUTH_REVOCATION_CACHE_SECONDS`); unfinished jobs are cancelled
 * (a worker still inside a provider call finds its job gone and keeps nothing); then every document under
 * `users/{uid}` (chats, messages, jobs, request mappings, counters, the user's own) and every blob under
 * `users/{uid}/` (media, inputs, uploads); the Auth user last, so a deletion cut short can be asked for again with the
 * same account.
 */
export class AccountService {
  readonly #options: AccountServiceOptions;

  constructor(options: AccountServiceOptions) {
    this.#options = options;
  }

  async deleteAccount(uid: string): Promise<{ documents: number; media: number }> {
    const { database, directory, verifier, ledger, batchSize, now } = this.#options;
    // The tombstone first: from here on, the account's still-valid tokens start nothing.
    const at = now();
    await database.set(paths.deletedAccount(uid), {
      deleted_at: new Date(at),
      purge_again_at: new Date(at + TOKEN_LIFETIME_MS),
      expire_at: new Date(at + TOMBSTONE_KEPT_MS),
    } satisfies DeletedAccountRecord);
    await directory.revokeSessions(uid);
    verifier.forget(uid);
    // Few (the active-job limit caps them), so one query finds them all.
    const active = await database.query<JobRecord>(queries.activeJobsOfUser(uid, batchSize));
    for (const job of active) await ledger.requestCancel(uid, job.id);
    const purged = await this.#purge(uid);
    await directory.deleteUser(uid);
    this.#options.logger.info("account deleted", { ...purged });
    return purged;
  }

  /**
   * Purges a deleted account again once every token issued before its deletion has expired (the sweep calls it
   * for tombstones due): whatever a request that was already in flight wrote after the first purge goes too.
   */
  async purgeAgain(uid: string): Promise<{ documents: number; media: number }> {
    const purged = await this.#purge(uid);
    const { deleted_at: deletedAt, expire_at: expireAt } =
      (await this.#options.database.get<DeletedAccountRecord>(paths.deletedAccount(uid)))?.data ?? {};
    if (deletedAt !== undefined && expireAt !== undefined) {
      await this.#options.database.set(paths.deletedAccount(uid), { deleted_at: deletedAt, expire_at: expireAt });
    }
    return purged;
  }

  async #purge(uid: string): Promise<{ documents: number; media: number }> {
    const documents = await this.#options.database.deleteTree(paths.user(uid));
    const media = await this.#options.blobs.deletePrefix(`users/${uid}/`);
    return { documents, media };
  }

  /** Everything the user wrote and got: every chat with every message, media as fresh URLs. */
  async exportAccount(uid: string): Promise<AccountExport> {
    const { database, blobs, batchSize, now } = this.#options;
    const chats: (Chat & { messages: Message[] })[] = [];
    let chatCursor: readonly unknown[] | undefined;
    for (;;) {
      const page = await database.query<ChatRecord>(queries.chatsByActivity(uid, batchSize, chatCursor));
      for (const { data: chat } of page) {
        if (chat.deleting_since !== undefined) continue;
        const messages: Message[] = [];
        let afterSeq: number | undefined;
        for (;;) {
          const found = await database.query<MessageRecord>(
            queries.chatMessages(uid, chat.chat_id, batchSize, afterSeq),
          );
          for (const { data } of found) messages.push(await toApiMessage(data, blobs));
          afterSeq = found.at(-1)?.data.seq;
          if (found.length < batchSize) break;
        }
        chats.push({ ...toApiChat(chat), messages });
      }
      const last = page.at(-1);
      if (page.length < batchSize || last === undefined) break;
      chatCursor = [last.data.updated_at, last.id];
    }
    // Two ledgers a month at most (real and simulated spending): a few hundred cover decades.
    const months = await database.query<UsageMonthRecord>(queries.usageMonthsOfUser(uid, 1_000));
    const usage = months
      .map(({ data }) => ({
        month: data.month,
        provider: data.provider,
        cost_usd: dollarsOf(data.spent_micros),
        requests: data.requests,
      }))
      .sort((a, b) => (a.month < b.month ? -1 : a.month > b.month ? 1 : 0));
    return { ok: true, uid, exported_at: new Date(now()).toISOString(), chats, usage };
  }
}
