import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A limit a measured value must stay within (`value <= limit`). */
export interface Budget {
  readonly name: string;
  readonly value: number;
  readonly limit: number;
}

export interface BenchResult {
  readonly title: string;
  readonly table: string;
  readonly data: Record<string, unknown>;
  readonly budgets: readonly Budget[];
  readonly notes?: readonly string[];
}

/** What every benchmark gets: signed-in users on the Auth emulator and settings for our server. */
export interface BenchContext {
  readonly quick: boolean;
  readonly authEmulatorHost: string;
  readonly projectId: string;
  /** An ID token; `index` spreads load over several users as real traffic would. */
  idToken(index: number): string;
  /** Settings for our `api` in embedded mode over a fresh data folder, with limits that never bind. */
  oursEnvironment(extra?: Record<string, string>): Record<string, string>;
  /** Temporary folders to remove at the end. */
  readonly directories: string[];
}

export function createBenchContext(options: {
  quick: boolean;
  authEmulatorHost: string;
  projectId: string;
  idTokens: readonly string[];
}): BenchContext {
  const directories: string[] = [];
  return {
    quick: options.quick,
    authEmulatorHost: options.authEmulatorHost,
    projectId: options.projectId,
    directories,
    idToken: (index) => options.idTokens[index % options.idTokens.length] ?? "",
    oursEnvironment: (extra = {}) => {
      const directory = mkdtempSync(join(tmpdir(), "atelier-bench-"));
      directories.push(directory);
      return {
        DATA_BACKEND: "embedded",
        EMBEDDED_DATA_DIR: directory,
        FIREBASE_PROJECT_ID: options.projectId,
        FIREBASE_AUTH_EMULATOR_HOST: options.authEmulatorHost,
        TASK_QUEUE: "in-process",
        RATE_LIMIT_RPM: "1000000000",
        RATE_LIMIT_BURST: "1000000000",
        RATE_LIMIT_FREE: "1000000000",
        RATE_LIMIT_PAID: "1000000000",
        RATE_LIMIT_USER_ACTIVE_JOBS: "100000",
        RATE_LIMIT_CONVERSATION_TASKS: "100000",
        MAX_OPEN_STREAMS_PER_USER: "100000",
        BUDGET_FREE_USD: "0",
        BUDGET_PAID_USD: "0",
        ...extra,
      };
    },
  };
}
