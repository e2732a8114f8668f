import assert from "node:assert/strict";
import { abandonDeadline, longestSilenceMs } from "./delivery-budget.ts";

/** The arithmetic of abandonment, with the deployed worker settings: 300 s longest backoff, 540 s timeout. */
describe("the abandonment deadline", () => {
  const budget = { maxAttempts: 5, dispatchGraceMs: 600_000 };
  const at = new Date("2026-01-01T00:00:00Z");
  const seconds = (deadline: Date) => (deadline.getTime() - at.getTime()) / 1000;

  it("gives a new task every attempt: each one the longest backoff plus a full run, then the dispatch grace", () => {
    assert.equal(seconds(abandonDeadline({ at }, budget)), 5 * (300 + 540) + 600);
    assert.equal(longestSilenceMs(budget) / 1000, 5 * (300 + 540) + 600);
  });

  it("gives a task on its last attempt only that attempt and the grace", () => {
    assert.equal(seconds(abandonDeadline({ at, attemptsLeft: 1 }, budget)), 840 + 600);
  });

  it("never counts a negative number of attempts", () => {
    assert.equal(seconds(abandonDeadline({ at, attemptsLeft: -2 }, budget)), 600);
  });
});
