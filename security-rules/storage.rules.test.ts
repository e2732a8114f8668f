import { readFileSync } from "node:fs";
import {
  assertFails,
  assertSucceeds,
  initializeTestEnvironment,
  type RulesTestEnvironment,
} from "@firebase/rules-unit-testing";

/** storage.rules against the Storage emulator (run by `npm run test:rules`). */
describe("storage.rules", function () {
  this.timeout(30_000);
  let environment: RulesTestEnvironment;
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const image = { contentType: "image/png" };

  before(async () => {
    environment = await initializeTestEnvironment({
      projectId: "demo-atelier-rules",
      storage: { rules: readFileSync(new URL("../storage.rules", import.meta.url), "utf8") },
    });
    await environment.withSecurityRulesDisabled(async (context) => {
      await context.storage().ref("users/alice/images/j1/0.png").put(png, image);
    });
  });
  after(async () => {
    await environment.cleanup();
  });

  const storageOf = (uid?: string) =>
    (uid === undefined ? environment.unauthenticatedContext() : environment.authenticatedContext(uid)).storage();

  it("lets a user upload images to their own uploads folder", async () => {
    await assertSucceeds(Promise.resolve(storageOf("alice").ref("users/alice/uploads/a.png").put(png, image)));
    await assertSucceeds(
      Promise.resolve(storageOf("alice").ref("users/alice/uploads/b.webp").put(png, { contentType: "image/webp" })),
    );
  });

  it("refuses uploads that are not images, too large, oddly named, or somewhere else", async () => {
    const alice = storageOf("alice");
    await assertFails(
      Promise.resolve(alice.ref("users/alice/uploads/notes.txt").put(png, { contentType: "text/plain" })),
    );
    await assertFails(
      Promise.resolve(alice.ref("users/alice/uploads/huge.png").put(new Uint8Array(10 * 1024 * 1024 + 1), image)),
    );
    await assertFails(Promise.resolve(alice.ref("users/alice/images/x/0.png").put(png, image)));
    await assertFails(Promise.resolve(storageOf("bob").ref("users/alice/uploads/c.png").put(png, image)));
    await assertFails(Promise.resolve(storageOf().ref("users/alice/uploads/d.png").put(png, image)));
    // Names the backend could not address (so the retention sweep could not delete them).
    await assertFails(Promise.resolve(alice.ref("users/alice/uploads/my photo.png").put(png, image)));
    await assertFails(Promise.resolve(alice.ref("users/alice/uploads/.hidden.png").put(png, image)));
  });

  it("lets owners read their media, and nobody else", async () => {
    await assertSucceeds(storageOf("alice").ref("users/alice/images/j1/0.png").getMetadata());
    await assertFails(storageOf("bob").ref("users/alice/images/j1/0.png").getMetadata());
    await assertFails(storageOf().ref("users/alice/images/j1/0.png").getMetadata());
  });
});
