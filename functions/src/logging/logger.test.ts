import assert from "node:assert/strict";
import { describeError, Logger, Redactor } from "./logger.ts";

describe("Logger", () => {
  const capture = (options: ConstructorParameters<typeof Logger>[0] = {}) => {
    const lines: string[] = [];
    const logger = new Logger({ ...options, sink: (line) => lines.push(line) });
    return { logger, lines, entries: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
  };

  it("writes one JSON object per line with Cloud Logging's severity", () => {
    const { logger, entries } = capture();
    logger.info("hello", { path: "/health" });
    logger.warn("careful");
    logger.error("broken");
    assert.deepEqual(
      entries().map((entry) => [entry.severity, entry.message]),
      [
        ["INFO", "hello"],
        ["WARNING", "careful"],
        ["ERROR", "broken"],
      ],
    );
    assert.equal(entries()[0]?.path, "/health");
  });

  it("drops lines below its level", () => {
    const { logger, lines } = capture({ level: "warn" });
    logger.debug("d");
    logger.info("i");
    logger.warn("w");
    assert.equal(lines.length, 1);
  });

  it("adds a child's fields to every line", () => {
    const { logger, entries } = capture();
    logger.child({ request_id: "r1" }).info("inside", { step: 2 });
    assert.deepEqual(entries()[0], { severity: "INFO", message: "inside", request_id: "r1", step: 2 });
  });

  describe("redaction", () => {
    const apiKey = "AIzaSyD-secret-key-0123456789";
    const privateKey = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----\n";
    const idToken = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl";

    it("hides configured secrets wherever they appear, escaped or not", () => {
      const { logger, lines } = capture({ redactor: new Redactor([apiKey, privateKey, undefined]) });
      logger.error("provider failed", { error_message: `bad key ${apiKey}`, config: { privateKey } });
      assert.ok(!lines[0]?.includes(apiKey));
      assert.ok(!lines[0]?.includes("MIIEvQIBADANBg"));
      assert.match(lines[0] ?? "", /\[REDACTED\]/);
    });

    it("hides bearer tokens, JWTs and keys in URLs even when nobody configured them", () => {
      const redactor = new Redactor([]);
      assert.equal(redactor.redact(`Authorization: Bearer ${idToken}`), "Authorization: Bearer [REDACTED]");
      assert.equal(redactor.redact(`token=${idToken}`), "token=[REDACTED]");
      assert.equal(
        redactor.redact("GET https://x.googleapis.com/v1/files?alt=media&key=AIzaLeaked"),
        "GET https://x.googleapis.com/v1/files?alt=media&key=[REDACTED]",
      );
      assert.equal(redactor.redact(`raw ${idToken} end`), "raw [REDACTED] end");
    });

    it("ignores values too short to be secrets, so ordinary words survive", () => {
      assert.equal(new Redactor(["abc"]).redact("abc def"), "abc def");
    });
  });

  it("describes errors with their cause and, for the outer one, the stack", () => {
    const described = describeError(new Error("outer", { cause: new TypeError("inner") }));
    assert.equal(described.error_name, "Error");
    assert.equal(described.error_message, "outer");
    assert.match(String(described.stack), /outer/);
    assert.deepEqual(described.cause, { error_name: "TypeError", error_message: "inner" });
  });
});
