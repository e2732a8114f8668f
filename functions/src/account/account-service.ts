import type { BlobStore } from "../blobs/blob-store.ts";
import type { AccountDirectory, IdTokenVerifier } from "../auth/id-token-verifier.ts";
import { toApiChat, toApiMessage, type ApiChat, type ApiMessage } from "../chat/history-service.ts";
import type { DocumentDatabase } from "../database/document-database.ts";
import type { JobLedger } from "../jobs/job-ledger.ts";
import type { Logger } from "../logging/logger.ts";
import { paths } from "../store/paths.ts";
import { queries } from "../store/queries.ts";
import type { ChatRecord, JobRecord, MessageRecord } from "../store/records.ts";

export interface AccountServiceOptions {
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

export interface AccountExport {
  readonly ok: true;
  readonly uid: string;
  readonly exported_at: string;
  readonly chats: readonly (ApiChat & { readonly messages: readonly ApiMessage[] })[];
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
    const { database, blobs, ledger, directory, verifier, logger, batchSize } = this.#options;
    await directory.revokeSessions(uid);
    verifier.forget(uid);
    // Few (the active-job limit caps them), so one query finds them all.
    const active = await database.query<JobRecord>(queries.activeJobsOfUser(uid, batchSize));
    for (const job of active) await ledger.requestCancel(uid, job.id);
    const documents = await database.deleteTree(paths.user(uid));
    const media = await blobs.deletePrefix(`users/${uid}/`);
    await directory.deleteUser(uid);
    logger.info("account deleted", { documents, media });
    return { documents, media };
  }

  /** Everything the user wrote and got: every chat with every message, media as fresh URLs. */
  async exportAccount(uid: string): Promise<AccountExport> {
    const { database, blobs, batchSize, now } = this.#options;
    const chats: (ApiChat & { messages: ApiMessage[] })[] = [];
    let chatCursor: readonly unknown[] | undefined;
    for (;;) {
      const page = await database.query<ChatRecord>(queries.chatsByActivity(uid, batchSize, chatCursor));
      for (const { data: chat } of page) {
        if (chat.deleting_since !== undefined) continue;
        const messages: ApiMessage[] = [];
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
    return { ok: true, uid, exported_at: new Date(now()).toISOString(), chats };
  }
}
