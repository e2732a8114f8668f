import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { crc32 as zlibCrc32 } from "node:zlib";
import { crc32 } from "./crc32.ts";

describe("crc32", () => {
  it("gives the standard check value for the ASCII digits 1 to 9", () => {
    assert.equal(crc32(Buffer.from("123456789")), 0xcbf43926);
  });

  it("is 0 for no bytes", () => {
    assert.equal(crc32(new Uint8Array(0)), 0);
  });

  it("agrees with zlib on arbitrary data", () => {
    for (const length of [1, 7, 64, 1000, 65_537]) {
      const bytes = randomBytes(length);
      assert.equal(crc32(bytes), zlibCrc32(bytes), `length ${length}`);
    }
  });

  it("continues from a previous result, so data can be checksummed in pieces", () => {
    const bytes = randomBytes(300);
    assert.equal(crc32(bytes.subarray(120), crc32(bytes.subarray(0, 120))), crc32(bytes));
  });
});
