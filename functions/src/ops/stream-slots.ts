import { randomUUID } from "node:crypto";
import type { DocumentDatabase } from "../database/document-database.ts";
import { resourceExhausted } from "../errors/app-error.ts";
import { paths } from "../store/paths.ts";
import { runChecks, trackedCheck, type TransactionCheck } from "../store/transaction-check.ts";

/**
 * A cap on the streams one user has open at once (`MAX_OPEN_STREAMS_PER_USER`), answers and resumes alike, across
 * every instance: each open stream holds a slot, a lease in `users/{uid}/counters/streams` that it renews while it
 * lasts and gives back when it ends. A slot whose instance died expires with its lease, so a crash never locks a
 * user out for long. One user's streams write that document only on open, close and renewal (every half lease).
 */
interface StreamSlotsOptions {
  readonly max: number;
  readonly leaseMs: number;
  readonly now: () => number;
}

/** An open stream's slot. */
export interface StreamSlot {
  /** Gives the slot back (once; later calls do nothing). */
  release(): Promise<void>;
}

interface SlotsDocument {
  /** Slot id → when its lease ends (milliseconds). */
  readonly slots: Readonly<Record<string, number>>;
}

export class StreamSlots {
  readonly #database: DocumentDatabase;
  readonly #options: StreamSlotsOptions;

  constructor(database: DocumentDatabase, options: StreamSlotsOptions) {
    this.#database = database;
    this.#options = options;
  }

  /** Takes a slot, or refuses with `429` (and the seconds until the first lease ends) when all are taken. */
  async acquire(uid: string): Promise<StreamSlot> {
    const pending = this.reserve(uid);
    await runChecks(this.#database, [pending.check]);
    return pending.taken();
  }

  /**
   * A slot taken by a check inside a transaction that does more (the one that starts a stream), so taking it
   * costs no round trip of its own; once that transaction has committed, `taken()` hands the slot over. When
   * the work around the transaction fails, `abandon()` gives back whatever it may have taken.
   */
  reserve(uid: string): { readonly check: TransactionCheck; taken(): StreamSlot; abandon(): Promise<void> } {
    const id = randomUUID();
    const path = paths.counter(uid, "streams");
    const { check, outcome } = trackedCheck({
      reads: [path],
      decide: (documents) => {
        const live = this.#live(documents.data<SlotsDocument>(path));
        const leases = Object.values(live);
        if (leases.length >= this.#options.max) {
          const soonest = Math.min(...leases);
          throw resourceExhausted(
            `You have ${this.#options.max} streams open already. Close one, or wait for an answer to end.`,
            Math.max(1, (soonest - this.#options.now()) / 1000),
            { limit: this.#options.max, scope: "streams" },
          );
        }
        return (transaction) =>
          transaction.set(path, { slots: { ...live, [id]: this.#options.now() + this.#options.leaseMs } });
      },
    });
    return {
      check,
      taken: () => this.#held(uid, id),
      // A transaction that never wrote the slot took nothing; one that did may or may not have committed.
      abandon: async () => {
        if (outcome().written) await this.#remove(uid, id);
      },
    };
  }

  /** A taken slot: renewed every half lease while it is there, given back once. */
  #held(uid: string, id: string): StreamSlot {
    // Renewal extends the slot only while it is there: a renewal racing the release must not bring it back.
    const renewal = setInterval(() => {
      void this.#change(uid, (live) =>
        id in live ? { ...live, [id]: this.#options.now() + this.#options.leaseMs } : live,
      ).catch(() => undefined);
    }, this.#options.leaseMs / 2);
    renewal.unref();
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        clearInterval(renewal);
        await this.#remove(uid, id);
      },
    };
  }

  /** Gives a slot back (nothing if it is not there). */
  #remove(uid: string, id: string): Promise<void> {
    return this.#change(uid, (live) => Object.fromEntries(Object.entries(live).filter(([slot]) => slot !== id)));
  }

  /** The leases of a slots document that have not ended. */
  #live(document: SlotsDocument | undefined): Record<string, number> {
    const now = this.#options.now();
    return Object.fromEntries(Object.entries(document?.slots ?? {}).filter(([, until]) => until > now));
  }

  /** Rewrites the user's live slots (expired ones dropped) as `change` says, in one transaction. */
  async #change(uid: string, change: (live: Record<string, number>) => Record<string, number>): Promise<void> {
    const path = paths.counter(uid, "streams");
    await this.#database.transaction(async (transaction) => {
      const document = await transaction.get<SlotsDocument>(path);
      const slots = change(this.#live(document?.data));
      // Nothing to keep and nothing stored (an account deleted meanwhile): write nothing rather than recreate it.
      if (document === null && Object.keys(slots).length === 0) return;
      transaction.set(path, { slots });
    });
  }
}
