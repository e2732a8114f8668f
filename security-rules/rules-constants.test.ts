import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { isBlobPath } from "../functions/src/blobs/blob-store.ts";
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

  it("refuses a client's upload past UPLOAD_MAX_PER_DAY's default, from the counter the server keeps", () => {
    const rules = readFileSync(new URL("../storage.rules", import.meta.url), "utf8");
    const limit = /data\.count < (\d+)/.exec(rules)?.[1];
    assert.equal(Number(limit), settingsSchema.parse({}).UPLOAD_MAX_PER_DAY);
    assert.match(rules, /counters\/uploads/);
    assert.match(rules, /!request\.resource\.name\.matches\('users\/\[\^\/\]\+\/uploads\/upload-\.\*'\)/);
  });

  it("admits only upload names the backend can address, so the retention sweep can delete every upload", () => {
    const rules = readFileSync(new URL("../storage.rules", import.meta.url), "utf8");
    const pattern = /request\.resource\.name\.matches\('([^']+)'\)/.exec(rules)?.[1];
    assert.ok(pattern !== undefined, "storage.rules constrains upload names");
    // Rules regular expressions (RE2) match the whole name.
    const admitted = new RegExp(`^(?:${pattern})$`);
    const names = {
      "users/u1/uploads/photo.png": true,
      "users/u1/uploads/upload-abc_1.jpeg": true,
      "users/u1/uploads/a+b=c@d.webp": true,
      "users/u1/uploads/my.photo.jpeg": true,
      "users/u1/uploads/album/2026/a.webp": false,
      "users/u1/uploads/no-extension": false,
      "users/u1/uploads/photo 1.png": false,
      "users/u1/uploads/ünïcode.png": false,
      "users/u1/uploads/../x.png": false,
      "users/u1/uploads/.hidden": false,
      "users/u1/uploads/": false,
      "users/u1/uploads//x.png": false,
      "users/u1/uploads/(1).png": false,
    };
    for (const [name, expected] of Object.entries(names)) {
      assert.equal(admitted.test(name), expected, name);
      if (expected) assert.ok(isBlobPath(name), `the backend addresses ${name}`);
    }
  });
});

/**
 * The emulator rules tests need Java 21; this one runs everywhere. It reads firestore.rules for the collections a
 * client may read, so a rule opening the server's bookkeeping (leases, payload fingerprints, quotas) is noticed.
 */
describe("firestore.rules readable collections", () => {
  it("lets owners read chats and messages only", () => {
    const rules = readFileSync(new URL("../firestore.rules", import.meta.url), "utf8");
    const readable = [...rules.matchAll(/match \/users\/\{uid\}\/(\w+)\/\{\w+\} \{\s*allow read/g)].map(
      (match) => match[1],
    );
    assert.deepEqual(readable, ["chats", "messages"]);
    assert.doesNotMatch(rules, /users\/\{uid\}\/\{document=\*\*\}/, "no rule opens everything under a user");
  });
});
