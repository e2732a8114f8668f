import { getAuth } from "firebase-admin/auth";
import { AccountService } from "../account/account-service.ts";
import { FirebaseAccountDirectory, FirebaseIdTokenVerifier } from "../auth/firebase-id-token-verifier.ts";
import type { BlobStore } from "../blobs/blob-store.ts";
import { ChatDeletion } from "../chat/chat-deletion.ts";
import { CleanupService, type CleanupOptions } from "../cleanup/cleanup-service.ts";
import { loadRuntimeConfig } from "../config/runtime-config.ts";
import type { DocumentDatabase } from "../database/document-database.ts";
import { JobLedger } from "../jobs/job-ledger.ts";
import { propagateJobStatus } from "../jobs/job-status-propagation.ts";
import { Logger } from "../logging/logger.ts";
import { getAdminApp } from "../runtime/admin-app.ts";
import { TEST_PROJECT_ID } from "./auth-emulator.ts";

/**
 * The maintenance sweep in this process, wired as embedded mode wires it (job status carried onto messages by
 * the ledger, no trigger), on a store the test owns. The account service it needs for deleted accounts has the
 * real Firebase Auth adapters, which the sweep never calls: no emulator is started.
 */
export interface CleanupCore {
  readonly cleanup: CleanupService;
  readonly ledger: JobLedger;
  readonly logLines: string[];
}

export async function openCleanupCore(setup: {
  readonly database: DocumentDatabase;
  readonly blobs: BlobStore;
  readonly options: CleanupOptions;
  readonly now?: () => number;
}): Promise<CleanupCore> {
  const { database, blobs, options } = setup;
  const now = setup.now ?? Date.now;
  const logLines: string[] = [];
  const logger = new Logger({ sink: (line) => logLines.push(line) });
  const ledger = new JobLedger(database, {
    leaseMs: 300_000,
    delivery: options.delivery,
    now,
    afterWrite: async (uid, job) => {
      await propagateJobStatus(database, uid, job, new Date(now()));
    },
  });
  const chatDeletion = new ChatDeletion({ database, blobs, ledger, now, batchSize: options.batchSize });
  const auth = getAuth(await getAdminApp(loadRuntimeConfig({ FIREBASE_PROJECT_ID: TEST_PROJECT_ID })));
  const accounts = new AccountService({
    database,
    blobs,
    ledger,
    directory: new FirebaseAccountDirectory(auth),
    verifier: new FirebaseIdTokenVerifier(auth, { checkRevoked: false, revocationCacheSeconds: 0 }),
    logger,
    now,
    batchSize: options.batchSize,
  });
  return {
    cleanup: new CleanupService({ database, blobs, ledger, chatDeletion, accounts, options, logger, now }),
    ledger,
    logLines,
  };
}
