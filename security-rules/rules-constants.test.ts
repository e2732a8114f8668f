import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { settingsSchema } from "../functions/src/config/settings.ts";

/**
 * Rules cannot read the server's settings, so the upload size limit is written into storage.rules by hand. This
 * keeps it equal to MAX_ATTACHMENT_SIZE_BYTES' default (it runs everywhere, unlike the emulator rules tests).
 */
describe("storage.rules constants", () => {
  it("limits uploads to MAX_ATTACHMENT_SIZE_BYTES' default and to the image types the API accepts", () => {
    const rules = readFileSync(new URL("../storage.rules", import.meta.url), "utf8");
    const limit = /request\.resource\.size <= ([\d\s*]+)/.exec(rules)?.[1];
    assert.ok(limit !== undefined, "storage.rules states a size limit");
    const bytes = limit.split("*").reduce((product, factor) => product * Number(factor.trim()), 1);
    assert.equal(bytes, settingsSchema.parse({}).MAX_ATTACHMENT_SIZE_BYTES);
    assert.match(rules, /image\/\(png\|jpeg\|webp\)/);
  });
});
