import { processServices } from "../runtime/process-services.ts";

const MAX_ROUNDS = 50;
const TIME_BUDGET_MS = 4 * 60_000;

/**
 * What the scheduled `cleanup` function runs: sweep rounds until nothing is left or the time budget (well inside
 * the function's timeout) is spent; the next run continues where this one stopped.
 */
export async function runScheduledCleanup(): Promise<void> {
  const services = await processServices();
  const deadline = Date.now() + TIME_BUDGET_MS;
  for (let round = 1; round <= MAX_ROUNDS && Date.now() < deadline; round++) {
    const report = await services.cleanup.sweep();
    if (!report.more) return;
  }
  services.logger.warn("cleanup stopped with work left; the next run continues");
}
