import assert from "node:assert/strict";
import { AppError, invalidArgument, resourceExhausted } from "./app-error.ts";
import { toAppError, toCallableError, toHttpErrorResponse } from "./error-mapping.ts";
import { DatabaseUnavailableError } from "../database/document-database.ts";
import { InvalidDocumentPathError, TransactionContentionError } from "../database/firestore-limits.ts";

describe("error mapping", () => {
  it("maps each contract code to its HTTP status", () => {
    const expected: Record<string, number> = {
      invalid_argument: 400,
      unauthenticated: 401,
      permission_denied: 403,
      not_found: 404,
      conflict: 409,
      payload_too_large: 413,
      unsupported_media_type: 415,
      resource_exhausted: 429,
      internal: 500,
      unavailable: 503,
    };
    for (const [code, status] of Object.entries(expected)) {
      const response = toHttpErrorResponse(new AppError(code as AppError["code"], "m"), "r");
      assert.equal(response.status, status, code);
      assert.equal(response.body.error.code, code);
    }
  });

  it("maps the store's failures: contention is a 429 to retry, an unreachable store a 503, a bad id a 400", () => {
    const contention = toHttpErrorResponse(new TransactionContentionError(), "r");
    assert.equal(contention.status, 429);
    assert.equal(contention.headers["Retry-After"], "1");
    assert.equal(toHttpErrorResponse(new DatabaseUnavailableError("locked"), "r").status, 503);
    const badId = toHttpErrorResponse(
      new InvalidDocumentPathError("users/u/requests/..", "'.' and '..' are not ids"),
      "r",
    );
    assert.equal(badId.status, 400);
    assert.ok(!JSON.stringify(badId.body).includes("users/u"), "the path stays out of the answer");
  });

  it("builds the envelope with details and the request id", () => {
    const response = toHttpErrorResponse(invalidArgument("Fix the body.", { message: "Required" }), "req-1");
    assert.deepEqual(response.body, {
      ok: false,
      error: { code: "invalid_argument", message: "Fix the body.", details: { fields: { message: "Required" } } },
      request_id: "req-1",
    });
  });

  it("adds Retry-After for rate limits, rounded up to whole seconds", () => {
    const response = toHttpErrorResponse(resourceExhausted("Too many.", 2.2), "r");
    assert.equal(response.status, 429);
    assert.deepEqual(response.headers, { "Retry-After": "3" });
  });

  it("turns anything else into a generic internal error that reveals nothing", () => {
    const response = toHttpErrorResponse(new Error("SELECT * FROM secrets failed at db.ts:12"), "r");
    assert.equal(response.status, 500);
    assert.equal(response.body.error.code, "internal");
    assert.doesNotMatch(JSON.stringify(response.body), /SELECT|db\.ts/);
    assert.deepEqual(
      [toAppError("a string").code, toAppError("a string").message],
      ["internal", "Something went wrong on our side. Please try again."],
    );
  });

  it("lets a provider failure answer 502 while keeping the unavailable code", () => {
    const response = toHttpErrorResponse(new AppError("unavailable", "Provider broke.", { httpStatus: 502 }), "r");
    assert.equal(response.status, 502);
    assert.equal(response.body.error.code, "unavailable");
  });

  it("maps to callable codes with the contract code and retry time in details", () => {
    assert.deepEqual(toCallableError(resourceExhausted("Later.", 5)), {
      code: "resource-exhausted",
      message: "Later.",
      details: { code: "resource_exhausted", retry_after_seconds: 5 },
    });
    assert.equal(toCallableError(new AppError("blocked", "No.")).code, "failed-precondition");
  });
});
