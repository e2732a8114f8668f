import assert from "node:assert/strict";
import { globMatcher, isBlobPath } from "./blob-store.ts";

/** The path rules every blob adapter shares. */
describe("blob paths", () => {
  it("are relative, plain segments only", () => {
    assert.equal(isBlobPath("users/u1/uploads/a.png"), true);
    for (const bad of ["a.png", "users//a", "users/../x", "/users/a", "users/a b", "users/u1/uploads/", "users/é"]) {
      assert.equal(isBlobPath(bad), false, bad);
    }
  });

  it("match globs where * is one whole segment and a last ** is anything below", () => {
    const uploads = globMatcher("users/*/uploads/**");
    assert.equal(uploads("users/u1/uploads/a.png"), true);
    assert.equal(uploads("users/u1/uploads/deep/b.png"), true);
    assert.equal(uploads("users/u1/images/j/0.png"), false);
    assert.equal(uploads("users//uploads/a.png"), false, "an empty segment is not one");
    assert.equal(uploads("users/u1/uploads"), false, "nothing below");
    assert.equal(uploads("users/u1/x/uploads/a.png"), false, "* is one segment only");
    assert.equal(globMatcher("users/u.1/a")("users/uX1/a"), false, "literal segments are literal");
  });
});
