import { randomUUID } from "node:crypto";
import { context, defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { PrometheusExporter, PrometheusSerializer } from "@opentelemetry/exporter-prometheus";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider, PeriodicExportingMetricReader, type MetricReader } from "@opentelemetry/sdk-metrics";
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type SpanExporter,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace";
import { atelierMetrics, type Telemetry } from "./telemetry.ts";

/**
 * The OpenTelemetry SDK behind the telemetry port, one per process (imported when the services are built, never
 * by the entry module: cold starts do not pay for it).
 *
 * - Spans go through a bounded batch queue to OTLP/HTTP (protobuf) when an endpoint is configured (and to the tests'
 *   in-memory exporter when given one). A slow or unreachable collector never holds a request: a full queue drops
 *   spans, and the processor's own metrics count them (`otel_sdk_processor_span_processed_total` with
 *   `error_type="queue_full"` on `/metrics`).
 * - Metrics are always kept for this instance's `GET /metrics` (Prometheus text, pulled on demand) and pushed to
 *   OTLP every `exportIntervalMs` when an endpoint is configured.
 * - The trace context travels in W3C `traceparent` form, so a task's payload carries it to its worker.
 */
export interface OpenTelemetryOptions {
  readonly serviceName: string;
  readonly serviceVersion: string;
  /** The share of requests traced (0..1), whatever a caller's `traceparent` says (its trace id is kept). */
  readonly sampleRatio: number;
  /** OTLP/HTTP base URL (`/v1/traces` and `/v1/metrics` are added), or undefined for no export. */
  readonly otlpEndpoint?: string;
  /** Headers for the collector (an API key): never logged. */
  readonly otlpHeaders?: Readonly<Record<string, string>>;
  /**
   * Sign each export with the service account's Google credentials for this project (Google's Telemetry API,
   * `https://telemetry.googleapis.com`, which feeds Cloud Trace and Cloud Monitoring).
   */
  readonly googleProject?: string;
  readonly exportIntervalMs: number;
  /** Where this instance runs (`cloud.region`, `cloud.platform`, `faas.name`, `faas.version`), as known. */
  readonly platform?: Readonly<Record<string, string>>;
  /** Spans waiting for export at most (default 2,048); beyond it they are dropped, and counted. */
  readonly maxQueueSize?: number;
  /** Spans also go here, unbatched (the tests' in-memory exporter). */
  readonly spanExporter?: SpanExporter;
}

/**
 * Headers that authenticate each export with Application Default Credentials (the function's service account
 * in production), refreshed as the token expires. Google's own Node exporters for Cloud Trace and Cloud
 * Monitoring were archived in October 2026 in favour of OTLP to the Telemetry API, which this is.
 */
async function googleHeaders(projectId: string): Promise<() => Promise<Record<string, string>>> {
  const { GoogleAuth } = await import("google-auth-library");
  const auth = new GoogleAuth({ scopes: ["https://www.googleapis.com/auth/cloud-platform"] });
  return async () => ({
    Authorization: `Bearer ${String(await auth.getAccessToken())}`,
    "x-goog-user-project": projectId,
  });
}

let contextManagerInstalled = false;

/** The process-wide context manager (async-local storage), installed once: spans nest across awaits. */
function installContextManager(): void {
  if (contextManagerInstalled) return;
  contextManagerInstalled = context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
}

export async function openTelemetry(options: OpenTelemetryOptions): Promise<Telemetry> {
  installContextManager();
  // Which instance a series comes from: without it, instances pushing the same cumulative series collide.
  const resource = resourceFromAttributes({
    "service.name": options.serviceName,
    "service.version": options.serviceVersion,
    "service.instance.id": randomUUID(),
    ...options.platform,
  });
  const prometheus = new PrometheusExporter({ preventServerStart: true });
  const readers: MetricReader[] = [prometheus];
  const base = options.otlpEndpoint?.replace(/\/+$/, "");
  const headers =
    options.googleProject === undefined ? { ...options.otlpHeaders } : await googleHeaders(options.googleProject);
  const otlp =
    base === undefined
      ? undefined
      : await Promise.all([
          import("@opentelemetry/exporter-trace-otlp-proto"),
          import("@opentelemetry/exporter-metrics-otlp-proto"),
        ]);
  if (otlp !== undefined && base !== undefined) {
    readers.push(
      new PeriodicExportingMetricReader({
        exporter: new otlp[1].OTLPMetricExporter({ url: `${base}/v1/metrics`, headers, timeoutMillis: 5_000 }),
        exportIntervalMillis: options.exportIntervalMs,
        exportTimeoutMillis: 5_000,
      }),
    );
  }
  const meterProvider = new MeterProvider({ resource, readers });
  const spanProcessors: SpanProcessor[] = [];
  if (otlp !== undefined && base !== undefined) {
    spanProcessors.push(
      new BatchSpanProcessor({
        exporter: new otlp[0].OTLPTraceExporter({ url: `${base}/v1/traces`, headers, timeoutMillis: 5_000 }),
        maxQueueSize: options.maxQueueSize ?? 2_048,
        maxExportBatchSize: Math.min(512, options.maxQueueSize ?? 2_048),
        scheduledDelayMillis: 2_000,
        exportTimeoutMillis: 5_000,
        // Counts what a full queue drops, on `/metrics` (an experimental option of the SDK).
        selfObsMeterProvider: meterProvider,
      }),
    );
  }
  if (options.spanExporter !== undefined) {
    spanProcessors.push(new SimpleSpanProcessor({ exporter: options.spanExporter }));
  }
  const tracerProvider = new TracerProvider({
    resource,
    // A remote parent's decision is not ours to keep: Cloud Run adds a `traceparent` to every request and samples
    // few, and a client could force recording. Requests take the ratio whatever they bring; local children
    // (a job task's spans under its request) follow their parent.
    sampler: new ParentBasedSampler({
      root: new TraceIdRatioBasedSampler(options.sampleRatio),
      remoteParentSampled: new TraceIdRatioBasedSampler(options.sampleRatio),
      remoteParentNotSampled: new TraceIdRatioBasedSampler(options.sampleRatio),
    }),
    spanProcessors,
  });
  const propagator = new W3CTraceContextPropagator();
  const serializer = new PrometheusSerializer();
  return {
    tracer: tracerProvider.getTracer("atelier", options.serviceVersion),
    metrics: atelierMetrics(meterProvider.getMeter("atelier", options.serviceVersion)),
    inject: () => {
      const carrier: Record<string, string> = {};
      propagator.inject(context.active(), carrier, defaultTextMapSetter);
      return carrier;
    },
    extract: (carrier) =>
      typeof carrier === "object" && carrier !== null
        ? propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter)
        : ROOT_CONTEXT,
    prometheus: async () => serializer.serialize((await prometheus.collect()).resourceMetrics),
    flush: async () => {
      await Promise.allSettled([tracerProvider.forceFlush(), meterProvider.forceFlush()]);
    },
    shutdown: async () => {
      await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]);
    },
  };
}
