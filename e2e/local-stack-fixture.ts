import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../functions/src/test-support/free-port.ts";
import { startLocalStack, type LocalStack, type Ports } from "../scripts/lib/local-stack.ts";

/** A free port for every emulator, so a test stack never collides with `npm start` or another test stack. */
export async function freeStackPorts(): Promise<Required<Ports>> {
  return {
    auth: await freePort(),
    functions: await freePort(),
    tasks: await freePort(),
    hosting: await freePort(),
    hub: await freePort(),
    logging: await freePort(),
  };
}

/**
 * One local stack (the same code `npm start` runs, web client included) for the whole end-to-end run, on free
 * ports and a temporary data folder, so it can run beside a developer's own `npm start`.
 */
let shared: Promise<LocalStack> | undefined;
let dataDirectory: string | undefined;

export function localStack(): Promise<LocalStack> {
  shared ??= (async () => {
    dataDirectory = mkdtempSync(join(tmpdir(), "atelier-e2e-"));
    const ports = await freeStackPorts();
    return startLocalStack({
      dataDirectory,
      ports,
      echo: process.env.E2E_VERBOSE === "1",
      environment: {
        SIMULATED_TOKEN_DELAY_MS: "5",
        SIMULATED_JOB_DELAY_MS: "100",
        VEO_POLL_INTERVAL_SECONDS: "1",
        // Each user still has a burst of 20 generating requests, refilled once a minute rather than every second,
        // so a test that empties a user's bucket sees the 429 for certain, not only if it is quick enough.
        RATE_LIMIT_RPM: "1",
      },
    });
  })();
  return shared;
}

export async function stopLocalStack(): Promise<void> {
  // A stack that failed to start has already stopped its emulators; its data folder still needs removing.
  if (shared !== undefined) await (await shared.catch(() => undefined))?.stop();
  shared = undefined;
  if (dataDirectory !== undefined) rmSync(dataDirectory, { recursive: true, force: true });
}
