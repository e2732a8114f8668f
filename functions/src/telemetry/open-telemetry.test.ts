import assert from "node:assert/strict";
import { openTelemetry } from "./open-telemetry.ts";

describe("the OpenTelemetry SDK behind the telemetry port", function () {
  this.timeout(20_000);

  it("drops spans a full export queue cannot hold, and counts them on /metrics, never blocking the caller", async () => {
    // A collector that refuses every connection, and room for two spans.
    const telemetry = await openTelemetry({
      serviceName: "atelier-test",
      serviceVersion: "0",
      sampleRatio: 1,
      otlpEndpoint: "http://127.0.0.1:9",
      exportIntervalMs: 60_000,
      maxQueueSize: 2,
    });
    try {
      for (let index = 0; index < 20; index += 1) telemetry.tracer.startSpan(`work ${String(index)}`).end();
      const text = await telemetry.prometheus();
      const dropped = /^otel_sdk_processor_span_processed_total\{[^}]*error_type="queue_full"[^}]*\} (\d+)/m.exec(text);
      assert.ok(dropped !== null, text);
      assert.ok(Number(dropped[1]) >= 10, `dropped ${String(dropped[1])}`);
    } finally {
      await telemetry.shutdown();
    }
  });

  it("carries a span's context through a plain object, as a task payload does", async () => {
    const telemetry = await openTelemetry({
      serviceName: "atelier-test",
      serviceVersion: "0",
      sampleRatio: 1,
      exportIntervalMs: 60_000,
    });
    const { context, trace } = await import("@opentelemetry/api");
    const span = telemetry.tracer.startSpan("request");
    const carrier = context.with(trace.setSpan(context.active(), span), () => telemetry.inject());
    span.end();
    assert.match(carrier.traceparent ?? "", new RegExp(`^00-${span.spanContext().traceId}-`));
    const child = telemetry.tracer.startSpan("worker", {}, telemetry.extract(carrier));
    assert.equal(child.spanContext().traceId, span.spanContext().traceId);
    child.end();
    assert.equal(trace.getSpanContext(telemetry.extract(undefined)), undefined);
    await telemetry.shutdown();
  });
});
