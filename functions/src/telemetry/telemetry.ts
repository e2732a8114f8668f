import {
  context,
  createNoopMeter,
  ROOT_CONTEXT,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Counter,
  type Histogram,
  type Meter,
  type Span,
  type SpanOptions,
  type Tracer,
  type UpDownCounter,
} from "@opentelemetry/api";

/**
 * Traces and metrics, as OpenTelemetry sees them: the services record through this port, and the runtime decides
 * where it goes (an OTLP collector, Cloud Trace, the in-memory exporters of the tests, or nowhere). Names follow
 * the OpenTelemetry semantic conventions (GenAI and HTTP) where one exists, `atelier.*` otherwise. No attribute
 * ever carries a prompt, an answer, a token or a key: lengths, ids, models and codes only.
 */

/** The metrics Atelier records (one instrument each, created once per process). */
export interface AtelierMetrics {
  /** `gen_ai.client.token.usage`: tokens per model call, by `gen_ai.token.type` (input, output). */
  readonly tokenUsage: Histogram;
  /** `gen_ai.client.operation.duration`: seconds per model call (a whole streamed answer). */
  readonly operationDuration: Histogram;
  /** `gen_ai.server.time_to_first_token`: seconds from the request to the first token the client got. */
  readonly timeToFirstToken: Histogram;
  /** `http.server.request.duration`: seconds per HTTP request, by route and status. */
  readonly httpDuration: Histogram;
  /** `atelier.sse.connections`: open event streams on this instance. */
  readonly sseConnections: UpDownCounter;
  /** `atelier.jobs`: jobs that ended, by kind and status. */
  readonly jobs: Counter;
  /** `atelier.job.duration`: seconds from a job's submission to its end. */
  readonly jobDuration: Histogram;
  /** `atelier.provider.errors`: provider calls that failed, by provider and error code. */
  readonly providerErrors: Counter;
  /** `atelier.cost`: micro-dollars spent (receipts), by kind and provider run. */
  readonly cost: Counter;
}

export interface Telemetry {
  readonly tracer: Tracer;
  readonly metrics: AtelierMetrics;
  /** The current trace context as W3C headers (`traceparent`), to carry inside a task's payload. */
  inject(): Record<string, string>;
  /** The context a carrier holds (nothing when it holds none): a worker's spans join the trace that queued it. */
  extract(carrier: unknown): Context;
  /** This instance's metrics in Prometheus' text format (empty when metrics are off). */
  prometheus(): Promise<string>;
  /** Sends what is queued now (bounded by the exporters' own timeouts), keeping telemetry on. */
  flush(): Promise<void>;
  /** Flushes and stops. */
  shutdown(): Promise<void>;
}

/** Each metric's name: the OpenTelemetry semantic conventions' where one exists. */
export const METRIC_NAMES = {
  tokenUsage: "gen_ai.client.token.usage",
  operationDuration: "gen_ai.client.operation.duration",
  timeToFirstToken: "gen_ai.server.time_to_first_token",
  httpDuration: "http.server.request.duration",
  sseConnections: "atelier.sse.connections",
  jobs: "atelier.jobs",
  jobDuration: "atelier.job.duration",
  providerErrors: "atelier.provider.errors",
  cost: "atelier.cost",
} as const satisfies Readonly<Record<keyof AtelierMetrics, string>>;

/** The instruments, on a meter. */
export function atelierMetrics(meter: Meter): AtelierMetrics {
  const seconds = { unit: "s" } as const;
  return {
    tokenUsage: meter.createHistogram(METRIC_NAMES.tokenUsage, {
      unit: "{token}",
      description: "Tokens used per model call",
      advice: { explicitBucketBoundaries: [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576] },
    }),
    operationDuration: meter.createHistogram(METRIC_NAMES.operationDuration, {
      ...seconds,
      description: "Duration of a model call",
      advice: {
        explicitBucketBoundaries: [
          0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
        ],
      },
    }),
    timeToFirstToken: meter.createHistogram(METRIC_NAMES.timeToFirstToken, {
      ...seconds,
      description: "Time from the request to the first token sent",
      advice: {
        explicitBucketBoundaries: [
          0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
        ],
      },
    }),
    httpDuration: meter.createHistogram(METRIC_NAMES.httpDuration, {
      ...seconds,
      description: "Duration of HTTP server requests",
      advice: { explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] },
    }),
    sseConnections: meter.createUpDownCounter(METRIC_NAMES.sseConnections, {
      unit: "{connection}",
      description: "Open server-sent event streams on this instance",
    }),
    jobs: meter.createCounter(METRIC_NAMES.jobs, { unit: "{job}", description: "Jobs that ended" }),
    jobDuration: meter.createHistogram(METRIC_NAMES.jobDuration, {
      ...seconds,
      description: "Time from a job's submission to its end",
      advice: { explicitBucketBoundaries: [1, 2, 5, 10, 20, 40, 60, 90, 120, 180, 300, 600] },
    }),
    providerErrors: meter.createCounter(METRIC_NAMES.providerErrors, {
      unit: "{error}",
      description: "Provider calls that failed",
    }),
    cost: meter.createCounter(METRIC_NAMES.cost, { unit: "{micro-dollar}", description: "Money spent, from receipts" }),
  };
}

/** Telemetry that records nothing (unit tests of single modules, tools). */
export function noTelemetry(): Telemetry {
  return {
    tracer: trace.getTracer("atelier-none"),
    metrics: atelierMetrics(createNoopMeter()),
    inject: () => ({}),
    extract: () => ROOT_CONTEXT,
    prometheus: () => Promise.resolve(""),
    flush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
}

/**
 * Runs `work` in a span that is the current one meanwhile (children and log lines join it), ending it with the
 * outcome: an error marks it failed with the error's class and code, never its message (which may quote input).
 */
export async function inSpan<T>(
  tracer: Tracer,
  name: string,
  options: SpanOptions & { readonly parent?: Context },
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const { parent, ...spanOptions } = options;
  return tracer.startActiveSpan(name, spanOptions, parent ?? context.active(), async (span) => {
    try {
      return await work(span);
    } catch (error) {
      markFailed(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/** What kind of error it was, for an `error.type` attribute: its code (ours, a provider's) or class, no message. */
export function errorType(error: unknown): string {
  if (typeof error === "object" && error !== null) {
    if ("failure" in error && typeof error.failure === "string") return error.failure;
    if ("code" in error && (typeof error.code === "string" || typeof error.code === "number"))
      return String(error.code);
  }
  return error instanceof Error ? error.name : "unknown";
}

/** Marks a span failed with what kind of error it was. */
export function markFailed(span: Span, error: unknown): void {
  span.setAttribute("error.type", errorType(error));
  span.setStatus({ code: SpanStatusCode.ERROR });
}

/** Attributes without the undefined ones. */
export function attributes(
  values: Readonly<Record<string, string | number | boolean | readonly string[] | undefined>>,
): Attributes {
  const defined: Attributes = {};
  for (const [key, value] of Object.entries(values)) if (value !== undefined) defined[key] = value;
  return defined;
}
