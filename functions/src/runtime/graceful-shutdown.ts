import type { ActiveStreams } from "../chat/active-streams.ts";
import type { Logger } from "../logging/logger.ts";
import type { Telemetry } from "../telemetry/telemetry.ts";

/**
 * What an instance does on SIGTERM (Cloud Functions sends it, then kills the instance about ten seconds later):
 * refuse new streams (503), let open answers finish for up to `graceSeconds`, then end the rest `aborted` with
 * their content saved and an `error` event sent, so no message is left `streaming` by a shutdown. The Functions
 * Framework closes the server once the last connection ends.
 */
export async function shutDownStreams(
  activeStreams: ActiveStreams,
  logger: Logger,
  graceSeconds: number,
): Promise<void> {
  const open = activeStreams.size;
  logger.info("shutdown: refusing new streams", { open_streams: open, grace_seconds: graceSeconds });
  const started = Date.now();
  await activeStreams.shutdown(graceSeconds * 1000);
  logger.info("shutdown: streams ended", { open_streams_at_start: open, duration_ms: Date.now() - started });
}

/** The longest a shutdown waits for the last spans and metrics to leave: the instance is killed soon after. */
const TELEMETRY_FLUSH_MS = 3_000;

/**
 * Runs {@link shutDownStreams} once, on the first SIGTERM, then sends what telemetry is still queued (the answers'
 * last spans, up to a minute of metrics), for at most three seconds.
 */
export function shutDownOnSigterm(
  activeStreams: ActiveStreams,
  logger: Logger,
  graceSeconds: number,
  telemetry: Pick<Telemetry, "shutdown">,
): void {
  process.once("SIGTERM", () => {
    void shutDownStreams(activeStreams, logger, graceSeconds).then(() =>
      Promise.race([telemetry.shutdown(), new Promise((resolve) => setTimeout(resolve, TELEMETRY_FLUSH_MS).unref())]),
    );
  });
}
