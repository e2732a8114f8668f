import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * Reads `read` every `intervalMs` until `accept` takes its value, and returns that value. After `timeoutMs` the
 * test fails, naming `what` it waited for and the last value it saw.
 */
export async function until<T>(
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const { timeoutMs = 8_000, intervalMs = 50, what = "condition" } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (accept(value)) return value;
    if (Date.now() > deadline) assert.fail(`${what} not met in time; last value ${JSON.stringify(value)}`);
    await sleep(intervalMs);
  }
}
