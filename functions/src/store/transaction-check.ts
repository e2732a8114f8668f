import type { DocumentDatabase, StoredDocument, Transaction } from "../database/document-database.ts";

/** Writes to make in a transaction once every read is done (Firestore needs every read before any write). */
export type TransactionWrite = (transaction: Transaction) => void;

/** Documents a transaction read together, by path. */
export class ReadDocuments {
  readonly #byPath: ReadonlyMap<string, StoredDocument | null>;

  constructor(byPath: ReadonlyMap<string, StoredDocument | null>) {
    this.#byPath = byPath;
  }

  /** The data of a document that was read (undefined: it does not exist), typed as the caller says it is stored. */
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- as the port's own reads are typed
  data<T extends object>(path: string): T | undefined {
    const found = this.#byPath.get(path);
    if (found === undefined) throw new Error(`Not read in this transaction: ${path}`);
    return found === null ? undefined : (found.data as T);
  }
}

/**
 * A check made inside a transaction: a limit, a quota, a budget. It names the documents it reads, which are
 * fetched with everything else the transaction reads in one round trip (each separate read is a round trip to
 * Firestore before anything can happen), and decides from them: the writes to make if the work goes ahead, or
 * a thrown error to refuse it. A check that must query (the active-jobs limit) does so through `transaction`,
 * paying a round trip of its own.
 */
export interface TransactionCheck {
  readonly reads: readonly string[];
  decide(
    documents: ReadDocuments,
    transaction: Transaction,
  ): Promise<TransactionWrite | undefined> | TransactionWrite | undefined;
}

/** What a check did in the last attempt of its transaction that reached it. */
export interface CheckOutcome {
  /** It refused (threw). */
  readonly refused: boolean;
  /** Its writes were made (the attempt may still have failed to commit). */
  readonly written: boolean;
}

/**
 * `check`, reporting what it did: so work around a transaction that failed can tell whether the check refused,
 * or had its writes made (and so may have committed them). Each attempt that reaches the check starts afresh.
 */
export function trackedCheck(check: TransactionCheck): {
  readonly check: TransactionCheck;
  readonly outcome: () => CheckOutcome;
} {
  let outcome: CheckOutcome = { refused: false, written: false };
  return {
    check: {
      reads: check.reads,
      decide: async (documents, transaction) => {
        outcome = { refused: false, written: false };
        try {
          const write = await check.decide(documents, transaction);
          return (
            write &&
            ((writer) => {
              outcome = { refused: false, written: true };
              write(writer);
            })
          );
        } catch (error) {
          outcome = { refused: true, written: false };
          throw error;
        }
      },
    },
    outcome: () => outcome,
  };
}

/** Reads `paths` and every document `checks` need, each once, in one round trip. */
export async function readTogether(
  transaction: Transaction,
  paths: readonly string[],
  checks: readonly TransactionCheck[] = [],
): Promise<ReadDocuments> {
  const wanted = [...new Set([...paths, ...checks.flatMap((check) => check.reads)])];
  const found = await transaction.getAll(wanted);
  return new ReadDocuments(new Map(wanted.map((path, index) => [path, found[index] ?? null])));
}

/** Runs `checks` in order over documents already read; the first to refuse throws. */
export async function decideAll(
  documents: ReadDocuments,
  transaction: Transaction,
  checks: readonly TransactionCheck[],
): Promise<TransactionWrite[]> {
  const writes: TransactionWrite[] = [];
  for (const check of checks) {
    const write = await check.decide(documents, transaction);
    if (write !== undefined) writes.push(write);
  }
  return writes;
}

/** Runs `checks` in a transaction of their own: one read, one commit. */
export async function runChecks(database: DocumentDatabase, checks: readonly TransactionCheck[]): Promise<void> {
  await database.transaction(async (transaction) => {
    const writes = await decideAll(await readTogether(transaction, [], checks), transaction, checks);
    for (const write of writes) write(transaction);
  });
}
