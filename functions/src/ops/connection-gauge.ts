import type { UpDownCounter } from "@opentelemetry/api";
import type { Logger } from "../logging/logger.ts";

/**
 * Counts this instance's open streaming connections (SSE and streaming callables) and says so in the logs when
 * the count crosses the warning and critical thresholds (`SSE_CONNECTIONS_WARNING` and `_CRITICAL`, 150 and 200 by default), and when it falls back below the
 * warning line: one line per crossing, not one per connection. The count is also the `atelier.sse.connections`
 * metric.
 */
export class ConnectionGauge {
  readonly #logger: Logger;
  readonly #warning: number;
  readonly #critical: number;
  #open = 0;
  #level: "normal" | "warning" | "critical" = "normal";

  readonly #counter: UpDownCounter | undefined;

  constructor(logger: Logger, thresholds: { warning: number; critical: number }, counter?: UpDownCounter) {
    this.#logger = logger;
    this.#counter = counter;
    this.#warning = thresholds.warning;
    this.#critical = thresholds.critical;
  }

  get open(): number {
    return this.#open;
  }

  /** Counts one more connection; call the returned function (once) when it closes. */
  acquire(): () => void {
    this.#open += 1;
    this.#counter?.add(1);
    this.#assess();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#open -= 1;
      this.#counter?.add(-1);
      this.#assess();
    };
  }

  #assess(): void {
    const level = this.#open >= this.#critical ? "critical" : this.#open >= this.#warning ? "warning" : "normal";
    if (level === this.#level) return;
    const rising = level === "critical" || (level === "warning" && this.#level === "normal");
    this.#level = level;
    const fields = { open_streams: this.#open, warning_at: this.#warning, critical_at: this.#critical };
    if (level === "critical") this.#logger.error("sse connections critical", fields);
    else if (level === "warning" && rising) this.#logger.warn("sse connections high", fields);
    else if (level === "normal") this.#logger.info("sse connections back to normal", fields);
  }
}
