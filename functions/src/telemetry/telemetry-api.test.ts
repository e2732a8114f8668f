import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace";
import { METRIC_NAMES } from "./telemetry.ts";
import { startApiServer, type ApiServer } from "../test-support/api-server.ts";
import { authEmulator, type TestUser } from "../test-support/auth-emulator.ts";
import { openSse } from "../test-support/sse-client.ts";
import { until } from "../test-support/until.ts";

/**
 * Traces and metrics through the real `api` handler, with the OpenTelemetry SDK's in-memory span exporter beside
 * the configured ones: what an operator's collector or Cloud Trace would receive.
 */
describe("traces and metrics", function () {
  this.timeout(60_000);
  const spans = new InMemorySpanExporter();
  let server: ApiServer;
  let user: TestUser;
  let admin: TestUser;
  const prompt = "Tell me about the herons of the Camargue";

  before(async () => {
    server = await startApiServer(
      { SIMULATED_JOB_DELAY_MS: "20", RATE_LIMIT_FREE: "0", RATE_LIMIT_RPM: "6000", RATE_LIMIT_BURST: "1000" },
      { spanExporter: spans },
    );
    const auth = await authEmulator();
    user = await auth.createUser();
    admin = await auth.withClaims(await auth.createUser(), { admin: true });
  });
  after(async () => {
    await server.close();
  });

  const headers = (who: TestUser) => ({ Authorization: `Bearer ${who.idToken}`, "Content-Type": "application/json" });
  const finished = () => spans.getFinishedSpans();
  const named = (name: string) => finished().filter((span) => span.name === name);
  const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

  it("traces a chat: the request, the answer with its GenAI attributes, and the model call inside it", async () => {
    const stream = await openSse(`${server.url}/chat/stream`, {
      method: "POST",
      headers: headers(user),
      body: JSON.stringify({ message: prompt }),
    });
    await stream.finished;
    const request = await until(
      () => Promise.resolve(named("POST /chat/stream")),
      (found) => found.length > 0,
      { timeoutMs: 5_000, what: "the request's span" },
    );
    const http = request[0]!;
    assert.equal(http.kind, SpanKind.SERVER);
    assert.equal(http.attributes["http.route"], "/chat/stream");
    assert.equal(http.attributes["http.response.status_code"], 200);

    const answer = named("chat gemini-3.8-flash").find((span) => span.kind === SpanKind.INTERNAL);
    assert.ok(answer !== undefined, "the answer's span");
    assert.equal(answer.spanContext().traceId, http.spanContext().traceId);
    assert.equal(parentOf(answer), http.spanContext().spanId);
    assert.equal(answer.attributes["gen_ai.operation.name"], "chat");
    assert.equal(answer.attributes["gen_ai.request.model"], "gemini-3.8-flash");
    assert.equal(answer.attributes["gen_ai.response.model"], "gemini-3.8-flash");
    assert.deepEqual(answer.attributes["gen_ai.response.finish_reasons"], ["STOP"]);
    assert.ok(Number(answer.attributes["gen_ai.usage.input_tokens"]) > 0);
    assert.ok(Number(answer.attributes["gen_ai.usage.output_tokens"]) > 0);
    assert.equal(answer.attributes["atelier.status"], "done");

    const call = named("chat gemini-3.8-flash").find((span) => span.kind === SpanKind.CLIENT);
    assert.ok(call !== undefined, "the model call's span");
    assert.equal(parentOf(call), answer.spanContext().spanId);
    assert.equal(call.attributes["gen_ai.provider.name"], "gcp.gemini");
    assert.equal(call.attributes["gen_ai.usage.input_tokens"], answer.attributes["gen_ai.usage.input_tokens"]);

    // The request's log lines name its trace, as Cloud Logging links them to Cloud Trace.
    const lines = server.logs().filter((line) => line.message === "start_stream");
    const trace = `projects/${server.config.projectId}/traces/${http.spanContext().traceId}`;
    assert.ok(
      lines.some((line) => line["logging.googleapis.com/trace"] === trace),
      JSON.stringify(lines),
    );
  });

  it("ends a stopped answer's spans as cut short, not as a provider failure", async () => {
    const stream = await openSse(`${server.url}/chat/stream`, {
      method: "POST",
      headers: headers(user),
      body: JSON.stringify({ message: "a long one simulate:slow" }),
    });
    const meta = await stream.waitFor((event) => event.event === "meta");
    const { message_id } = JSON.parse(meta.data) as { message_id: string };
    await stream.waitFor((event) => event.event === "token");
    await fetch(`${server.url}/chat/stop`, {
      method: "POST",
      headers: headers(user),
      body: JSON.stringify({ message_id }),
    });
    await stream.finished;
    const answer = await until(
      () => Promise.resolve(finished().find((span) => span.attributes["atelier.message_id"] === message_id)),
      (span) => span !== undefined,
      { timeoutMs: 5_000, what: "the stopped answer's span" },
    );
    assert.equal(answer?.attributes["atelier.status"], "aborted");
    const call = finished().find(
      (span) => span.kind === SpanKind.CLIENT && parentOf(span) === answer.spanContext().spanId,
    );
    assert.ok(call !== undefined, "the model call's span was ended too");
    assert.equal(call.attributes["error.type"], "aborted");
    assert.notEqual(call.status.code, SpanStatusCode.ERROR);
    const metrics = await (await fetch(`${server.url}/metrics`, { headers: headers(admin) })).text();
    assert.doesNotMatch(metrics, /^atelier_provider_errors_total\{[^}]*error_type="(unknown|aborted)"/m);
  });

  it("samples a request by its own ratio, keeping the trace id a caller (or Cloud Run) sent", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const response = await fetch(`${server.url}/models`, {
      headers: { ...headers(user), traceparent: `00-${traceId}-00f067aa0ba902b7-00` },
    });
    assert.equal(response.status, 200);
    const request = await until(
      () => Promise.resolve(named("GET /models").find((span) => span.spanContext().traceId === traceId)),
      (span) => span !== undefined,
      { timeoutMs: 5_000, what: "the traced request" },
    );
    assert.equal(request?.parentSpanContext?.spanId, "00f067aa0ba902b7");
  });

  it("joins a job's worker spans to the trace of the request that queued it", async () => {
    const submitted = await fetch(`${server.url}/image/generate`, {
      method: "POST",
      headers: headers(user),
      body: JSON.stringify({ prompt: "a heron at dawn" }),
    });
    const { job_id } = (await submitted.json()) as { job_id: string };
    await until(
      async () =>
        (await (await fetch(`${server.url}/jobs/${job_id}`, { headers: headers(user) })).json()) as { status: string },
      (job) => job.status === "done",
      { timeoutMs: 15_000, what: "the job" },
    );
    const request = named("POST /image/generate").at(-1);
    const worker = finished().find(
      (span) => span.name === "job imageWorker" && span.attributes["atelier.job_id"] === job_id,
    );
    assert.ok(request !== undefined && worker !== undefined);
    assert.equal(worker.kind, SpanKind.CONSUMER);
    assert.equal(worker.spanContext().traceId, request.spanContext().traceId);
  });

  it("searches as spans of the answer, and never puts words, tokens or keys in an attribute", async () => {
    const stream = await openSse(`${server.url}/chat/stream`, {
      method: "POST",
      headers: headers(user),
      body: JSON.stringify({ message: "where do herons nest?", grounding: true }),
    });
    await stream.finished;
    const search = named("search tavily").at(-1);
    assert.ok(search !== undefined);
    assert.equal(search.attributes["atelier.search.depth"], "advanced");
    assert.ok(Number(search.attributes["atelier.search.results"]) > 0);
    const values = finished().flatMap((span) => Object.values(span.attributes).flat().map(String));
    for (const secret of [prompt, "where do herons nest", user.idToken, "herons of the Camargue"]) {
      assert.ok(!values.some((value) => value.includes(secret)), `no attribute holds ${secret.slice(0, 20)}`);
    }
  });

  it("serves this instance's metrics to admins in Prometheus format, and to nobody else", async () => {
    // A picture the provider refuses: a provider error, by provider and kind.
    const blocked = await fetch(`${server.url}/image/generate`, {
      method: "POST",
      headers: headers(user),
      body: JSON.stringify({ prompt: "simulate:blocked a heron" }),
    });
    const { job_id } = (await blocked.json()) as { job_id: string };
    await until(
      async () =>
        (await (await fetch(`${server.url}/jobs/${job_id}`, { headers: headers(user) })).json()) as { status: string },
      (job) => job.status === "error",
      { timeoutMs: 15_000, what: "the blocked job" },
    );
    const refused = await fetch(`${server.url}/metrics`, { headers: headers(user) });
    assert.equal(refused.status, 403);
    const response = await fetch(`${server.url}/metrics`, { headers: headers(admin) });
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    for (const metric of [
      "gen_ai_client_token_usage",
      "gen_ai_client_operation_duration",
      "gen_ai_server_time_to_first_token",
      "http_server_request_duration",
      "atelier_sse_connections",
      "atelier_jobs",
      "atelier_job_duration",
      "atelier_cost",
    ]) {
      assert.match(text, new RegExp(`^${metric}`, "m"), `${metric} in /metrics`);
    }
    assert.match(text, /gen_ai_token_type="input"/);
    assert.match(text, /atelier_job_status="done"/);
    assert.match(text, /^atelier_provider_errors_total\{[^}]*atelier_provider="gcp\.gemini"[^}]*error_type="blocked"/m);
  });

  it("alerts (Cloud Monitoring policies and Prometheus rules alike) on metrics /metrics really serves", async () => {
    const root = fileURLToPath(new URL("../../../monitoring/", import.meta.url));
    const policies = readdirSync(join(root, "alert-policies")).map(
      (file) =>
        JSON.parse(readFileSync(join(root, "alert-policies", file), "utf8")) as {
          conditions: { conditionPrometheusQueryLanguage: { query: string } }[];
        },
    );
    const fromPolicies = policies.flatMap((policy) =>
      policy.conditions.map((condition) => condition.conditionPrometheusQueryLanguage.query),
    );
    const fromRules = [
      ...readFileSync(join(root, "prometheus-rules.yml"), "utf8").matchAll(/expr: (['"])(.+)\1$/gm),
    ].map((match) => match[2] ?? "");
    assert.equal(fromPolicies.length, 6);
    assert.equal(fromRules.length, 6);
    // Cloud Monitoring stores OTLP metrics under their own dotted names (quoted in PromQL)...
    const known: readonly string[] = Object.values(METRIC_NAMES);
    for (const query of fromPolicies) {
      const names = [...query.matchAll(/\{"([a-z_.]+?)(?:_count|_sum|_bucket)?"/g)].map((match) => match[1] ?? "");
      assert.ok(names.length > 0 && names.every((name) => known.includes(name)), `${query} names our metrics`);
    }
    // ...and a Prometheus scraping /metrics sees them with underscores.
    const served = await (await fetch(`${server.url}/metrics`, { headers: headers(admin) })).text();
    for (const query of fromRules) {
      for (const [metric] of query.matchAll(/\b(?:http_server|atelier|gen_ai)_[a-z_]+/g)) {
        assert.match(served, new RegExp(`^${metric}`, "m"), `${metric} (in ${query}) is served`);
      }
    }
  });

  it("keeps answering when the trace collector is down", async () => {
    const lonely = await startApiServer(
      { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9", RATE_LIMIT_FREE: "0" },
      { spanExporter: new InMemorySpanExporter() },
    );
    try {
      for (let turn = 0; turn < 3; turn += 1) {
        const stream = await openSse(`${lonely.url}/chat/stream`, {
          method: "POST",
          headers: headers(user),
          body: JSON.stringify({ message: `still there? ${String(turn)}` }),
        });
        await stream.finished;
        assert.ok(stream.events.some((event) => event.event === "done"));
      }
      assert.equal((await fetch(`${lonely.url}/health`)).status, 200);
    } finally {
      await lonely.close();
    }
  });
});
