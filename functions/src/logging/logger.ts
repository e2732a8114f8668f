/**
 * Structured JSON logs, one object per line: Cloud Logging reads `severity` and `message` from stdout lines,
 * and the same lines are easy to grep locally. Every line passes through a redactor before it is written,
 * so a secret or token that slipped into an error message still never reaches the log. A line written inside a
 * traced operation carries the trace in the fields Cloud Logging links to Cloud Trace with.
 */
import { trace } from "@opentelemetry/api";

type LogLevel = "debug" | "info" | "warn" | "error";

const SEVERITY: Readonly<Record<LogLevel, string>> = {
  debug: "DEBUG",
  info: "INFO",
  warn: "WARNING",
  error: "ERROR",
};
const RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

type LogFields = Readonly<Record<string, unknown>>;

/** Where finished lines go. Tests capture them; production writes to stdout. */
export type LogSink = (line: string) => void;

const stdoutSink: LogSink = (line) => {
  process.stdout.write(`${line}\n`);
};

const REDACTED = "[REDACTED]";
const BEARER_PATTERN = /Bearer\s+[A-Za-z0-9._~+/=-]+/g;
/** A JWT (ID token, custom token): three base64url parts, the first an encoded JSON header. */
const JWT_PATTERN = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
/** API keys passed in URLs (`?key=...`) by some SDKs. */
const URL_KEY_PATTERN = /([?&](?:key|api_key|token|signature)=)[^&\s"]+/gi;

export class Redactor {
  readonly #secrets: readonly string[];

  /** `secrets`: exact values to hide wherever they appear (API keys, private keys). */
  constructor(secrets: Iterable<string | undefined>) {
    this.#secrets = [...secrets]
      .filter((value): value is string => typeof value === "string" && value.length >= 6)
      .flatMap((value) => [value, JSON.stringify(value).slice(1, -1)])
      .sort((a, b) => b.length - a.length);
  }

  redact(text: string): string {
    let result = text;
    for (const secret of this.#secrets) if (result.includes(secret)) result = result.split(secret).join(REDACTED);
    return result
      .replace(BEARER_PATTERN, `Bearer ${REDACTED}`)
      .replace(JWT_PATTERN, REDACTED)
      .replace(URL_KEY_PATTERN, `$1${REDACTED}`);
  }
}

/** Errors that know which of their facts are safe to log (provider errors: never the provider's text). */
interface SelfDescribingError {
  toLogFields(): Record<string, unknown>;
}

function describesItself(error: unknown): error is SelfDescribingError {
  return (
    typeof error === "object" && error !== null && "toLogFields" in error && typeof error.toLogFields === "function"
  );
}

/** Plain, loggable facts about an error: its class and message, and the stack for bugs. */
export function describeError(error: unknown, includeStack = true): Record<string, unknown> {
  if (describesItself(error)) return error.toLogFields();
  if (error instanceof Error) {
    const described: Record<string, unknown> = { error_name: error.name, error_message: error.message };
    if ("code" in error && (typeof error.code === "string" || typeof error.code === "number")) {
      described.error_code = error.code;
    }
    if (includeStack && error.stack !== undefined) described.stack = error.stack;
    if (error.cause !== undefined) described.cause = describeError(error.cause, false);
    return described;
  }
  return { error_message: String(error) };
}

export class Logger {
  readonly #sink: LogSink;
  readonly #redactor: Redactor;
  readonly #minimum: number;
  readonly #fields: LogFields;
  readonly #traceProject: string | undefined;

  constructor(
    options: {
      sink?: LogSink;
      redactor?: Redactor;
      level?: LogLevel;
      fields?: LogFields;
      /** The project whose Cloud Trace the trace ids name (`projects/<id>/traces/<trace id>`). */
      traceProject?: string;
    } = {},
  ) {
    this.#sink = options.sink ?? stdoutSink;
    this.#redactor = options.redactor ?? new Redactor([]);
    this.#minimum = RANK[options.level ?? "info"];
    this.#fields = options.fields ?? {};
    this.#traceProject = options.traceProject;
  }

  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger {
    return new Logger({
      sink: this.#sink,
      redactor: this.#redactor,
      level: (Object.keys(RANK) as LogLevel[]).find((level) => RANK[level] === this.#minimum) ?? "info",
      fields: { ...this.#fields, ...fields },
      ...(this.#traceProject === undefined ? {} : { traceProject: this.#traceProject }),
    });
  }

  debug(message: string, fields?: LogFields): void {
    this.#write("debug", message, fields);
  }

  info(message: string, fields?: LogFields): void {
    this.#write("info", message, fields);
  }

  warn(message: string, fields?: LogFields): void {
    this.#write("warn", message, fields);
  }

  error(message: string, fields?: LogFields): void {
    this.#write("error", message, fields);
  }

  /** The active span's trace, as Cloud Logging's special fields, when a span is active. */
  #traceFields(): LogFields {
    if (this.#traceProject === undefined) return {};
    const span = trace.getActiveSpan()?.spanContext();
    if (span === undefined || !trace.isSpanContextValid(span)) return {};
    return {
      "logging.googleapis.com/trace": `projects/${this.#traceProject}/traces/${span.traceId}`,
      "logging.googleapis.com/spanId": span.spanId,
      "logging.googleapis.com/trace_sampled": (span.traceFlags & 1) === 1,
    };
  }

  #write(level: LogLevel, message: string, fields: LogFields | undefined): void {
    if (RANK[level] < this.#minimum) return;
    const entry = { severity: SEVERITY[level], message, ...this.#traceFields(), ...this.#fields, ...fields };
    let line: string;
    try {
      line = JSON.stringify(entry, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value));
    } catch {
      line = JSON.stringify({ severity: SEVERITY[level], message, log_error: "unserializable fields" });
    }
    this.#sink(this.#redactor.redact(line));
  }
}
