import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { startLocalStack } from "../scripts/lib/local-stack.ts";
import { freeStackPorts } from "./local-stack-fixture.ts";

async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return true;
  } catch {
    return false;
  }
}

/** `npm start` wires Ctrl-C to this signal, so stopping during start-up must leave nothing running. */
describe("local stack start-up", function () {
  this.timeout(180_000);

  it("stops the emulators it had started when start-up is aborted, and rejects with the abort", async () => {
    const dataDirectory = mkdtempSync(join(tmpdir(), "atelier-abort-"));
    const ports = await freeStackPorts();
    const authUrl = `http://127.0.0.1:${String(ports.auth)}/`;
    const starting = new AbortController();
    try {
      const started = startLocalStack({ dataDirectory, ports, signal: starting.signal });
      const outcome = started.then(
        () => "started",
        (error: unknown) => (error instanceof Error ? error.name : String(error)),
      );
      // Abort once the emulators are demonstrably up (the Auth emulator answers), before start-up completes.
      while (!(await answers(authUrl))) {
        assert.equal(await Promise.race([outcome, sleep(100)]), undefined);
      }
      starting.abort();
      assert.equal(await outcome, "AbortError");
      assert.equal(await answers(authUrl), false, "the Auth emulator still answers after the abort");
      assert.equal(await answers(`http://127.0.0.1:${String(ports.functions)}/`), false);
    } finally {
      rmSync(dataDirectory, { recursive: true, force: true });
    }
  });
});
