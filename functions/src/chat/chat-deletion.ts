import type { BlobStore } from "../blobs/blob-store.ts";
import type { DocumentDatabase, StoredDocument } from "../database/document-database.ts";
import { notFound } from "../errors/app-error.ts";
import type { JobLedger } from "../jobs/job-ledger.ts";
import { finishMessage } from "./finish-message.ts";
import { deleteJobMedia } from "../store/media-paths.ts";
import { paths } from "../store/paths.ts";
import { queries } from "../store/queries.ts";
import { isFinishedJob, type ChatRecord, type JobRecord, type MessageRecord } from "../store/records.ts";

/**
 * Deleting a chat so that nothing of it is left and nothing of it keeps working, resumably:
 *
 * 1. the chat is marked `deleting_since` (hidden from listings, refusing new turns and jobs);
 * 2. its jobs are cancelled: one nobody works on ends at once; one a worker holds is marked, and that worker stores
 *    nothing and ends it at its next write (until then it still counts against the active-job limits);
 * 3. its messages (an answer still running ended first, settling its budget reservation), request mappings, finished jobs, their media and the uploads the chat used are deleted, in
 *    batches;
 * 4. the chat document goes last, once no job of it is still running.
 *
 * Interrupted anywhere, a repeated DELETE or the cleanup sweep picks it up where it stopped.
 */
interface ChatDeletionOptions {
  readonly database: DocumentDatabase;
  readonly blobs: BlobStore;
  readonly ledger: JobLedger;
  readonly now: () => number;
  /** Documents per query and per delete transaction (Firestore takes at most 500 writes in one). */
  readonly batchSize: number;
}

interface DeletionProgress {
  /** `deleting` while a worker still has one of its jobs: ask again (or let the sweep) once it has stopped. */
  readonly status: "deleted" | "deleting";
  readonly messages: number;
  readonly media: number;
  readonly pending_jobs: number;
}

export class ChatDeletion {
  readonly #options: ChatDeletionOptions;

  constructor(options: ChatDeletionOptions) {
    this.#options = options;
  }

  /** Starts or continues deleting a chat of the caller's; someone else's, or one already gone, is not found. */
  async delete(uid: string, chatId: string): Promise<DeletionProgress> {
    const { database, now } = this.#options;
    const chatPath = paths.chat(uid, chatId);
    await database.transaction(async (transaction) => {
      const chat = await transaction.get<ChatRecord>(chatPath);
      if (chat === null) throw notFound("Chat");
      if (chat.data.deleting_since === undefined) transaction.update(chatPath, { deleting_since: new Date(now()) });
    });
    const jobs = await this.#deleteJobs(uid, chatId);
    let media = jobs.media;
    // Each batch's uploads go before the batch's documents: a run cut short between the two finds them again.
    const messages = await this.#deleteAll<MessageRecord>(paths.messages(uid), chatId, async (batch) => {
      // An answer still running holds a budget reservation: ending it settles that, before its record goes.
      for (const { data } of batch) {
        if (data.charge === undefined) continue;
        await finishMessage(
          database,
          uid,
          data.message_id,
          { status: "aborted", error: { code: "aborted", message: "Its chat was deleted." } },
          new Date(now()),
        );
      }
      media += await this.#deleteUploads(
        batch.flatMap(({ data }) => (data.attachments ?? []).map((item) => item.path)),
      );
    });
    await this.#deleteAll(paths.requests(uid), chatId);
    if (jobs.pending === 0) await database.delete(chatPath);
    return { status: jobs.pending === 0 ? "deleted" : "deleting", messages, media, pending_jobs: jobs.pending };
  }

  /** Deletes uploads a chat used (silently when already gone); returns how many it was asked to. */
  async #deleteUploads(paths: readonly string[]): Promise<number> {
    for (const path of paths) await this.#options.blobs.delete(path);
    return paths.length;
  }

  /** Cancels the chat's jobs and deletes the finished ones with their media; counts those still running. */
  async #deleteJobs(uid: string, chatId: string): Promise<{ pending: number; media: number }> {
    const { ledger, blobs, batchSize, database } = this.#options;
    let media = 0;
    for (;;) {
      const found = await database.query<JobRecord>(queries.chatDocuments(paths.jobs(uid), chatId, batchSize));
      const finished: StoredDocument<JobRecord>[] = [];
      let running = 0;
      for (const document of found) {
        const job = isFinishedJob(document.data) ? document.data : await ledger.requestCancel(uid, document.id);
        if (job === undefined || !isFinishedJob(job)) {
          running += 1;
          continue;
        }
        media += await deleteJobMedia(blobs, uid, job.job_id);
        const sources = Array.isArray(job.input.source_uploads) ? job.input.source_uploads : [];
        media += await this.#deleteUploads(sources.filter((path): path is string => typeof path === "string"));
        finished.push(document);
      }
      await this.#deleteDocuments(finished);
      // Running jobs stay (there are few: the per-chat limit); a batch of nothing else means the rest is done.
      if (found.length < batchSize || finished.length === 0) return { pending: running, media };
    }
  }

  /** Deletes the chat's documents of a collection, a batch at a time; `before` runs on each batch first. */
  async #deleteAll<T extends object>(
    collection: string,
    chatId: string,
    before: (batch: readonly StoredDocument<T>[]) => Promise<void> = () => Promise.resolve(),
  ): Promise<number> {
    const { database, batchSize } = this.#options;
    let deleted = 0;
    for (;;) {
      const found = await database.query<T>(queries.chatDocuments(collection, chatId, batchSize));
      await before(found);
      await this.#deleteDocuments(found);
      deleted += found.length;
      if (found.length < batchSize) return deleted;
    }
  }

  async #deleteDocuments(documents: readonly StoredDocument<object>[]): Promise<void> {
    if (documents.length === 0) return;
    await this.#options.database.transaction(async (transaction) => {
      for (const document of documents) transaction.delete(document.path);
      return Promise.resolve();
    });
  }
}
