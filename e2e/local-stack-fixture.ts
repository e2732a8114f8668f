import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../scripts/lib/free-port.ts";
import { startLocalStack, type LocalStack } from "../scripts/lib/local-stack.ts";

/**
 * One local stack (the same code `npm start` runs) for the whole end-to-end run, on free ports and a temporary
 * data folder, so it can run beside a developer's own `npm start`.
 */
let shared: Promise<LocalStack> | undefined;
let dataDirectory: string | undefined;

export function localStack(): Promise<LocalStack> {
  shared ??= (async () => {
    dataDirectory = mkdtempSync(join(tmpdir(), "atelier-e2e-"));
    const ports = {
      auth: await freePort(),
      functions: await freePort(),
      tasks: await freePort(),
      hub: await freePort(),
      logging: await freePort(),
    };
    return startLocalStack({
      dataDirectory,
      ports,
      echo: process.env.E2E_VERBOSE === "1",
      environment: { SIMULATED_TOKEN_DELAY_MS: "5", SIMULATED_JOB_DELAY_MS: "100", VEO_POLL_INTERVAL_SECONDS: "1" },
    });
  })();
  return shared;
}

export async function stopLocalStack(): Promise<void> {
  if (shared !== undefined) await (await shared).stop();
  shared = undefined;
  if (dataDirectory !== undefined) rmSync(dataDirectory, { recursive: true, force: true });
}
