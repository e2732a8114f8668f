import { readFileSync } from "node:fs";
import {
  assertFails,
  assertSucceeds,
  initializeTestEnvironment,
  type RulesTestEnvironment,
} from "@firebase/rules-unit-testing";

/** firestore.rules against the Firestore emulator (run by `npm run test:rules`). */
describe("firestore.rules", function () {
  this.timeout(30_000);
  let environment: RulesTestEnvironment;

  before(async () => {
    environment = await initializeTestEnvironment({
      projectId: "demo-atelier-rules",
      firestore: { rules: readFileSync(new URL("../firestore.rules", import.meta.url), "utf8") },
    });
    await environment.withSecurityRulesDisabled(async (context) => {
      const database = context.firestore();
      await database.doc("users/alice/chats/c1").set({ title: "mine" });
      await database.doc("users/alice/messages/m1").set({ chat_id: "c1", content: "hello", status: "done" });
      await database.doc("users/alice/jobs/j1").set({ status: "running", lease_owner: "worker-1" });
      await database.doc("users/alice/requests/r1").set({ payload_hash: "abc" });
      await database.doc("users/alice/counters/rate").set({ tokens: 3 });
      await database.doc("_atelier/health").set({ ok: true });
    });
  });
  after(async () => {
    await environment.cleanup();
  });

  const firestoreOf = (uid?: string) =>
    (uid === undefined ? environment.unauthenticatedContext() : environment.authenticatedContext(uid)).firestore();

  it("lets a user read their own chats and messages, and query them", async () => {
    const database = firestoreOf("alice");
    await assertSucceeds(database.doc("users/alice/chats/c1").get());
    await assertSucceeds(database.doc("users/alice/messages/m1").get());
    await assertSucceeds(database.collection("users/alice/messages").where("chat_id", "==", "c1").get());
  });

  it("keeps the server's bookkeeping from the owner too: jobs, request mappings, counters", async () => {
    const database = firestoreOf("alice");
    await assertFails(database.doc("users/alice/jobs/j1").get());
    await assertFails(database.doc("users/alice/requests/r1").get());
    await assertFails(database.doc("users/alice/counters/rate").get());
    await assertFails(database.collection("users/alice/jobs").get());
  });

  it("hides a user's documents from everyone else", async () => {
    await assertFails(firestoreOf("bob").doc("users/alice/chats/c1").get());
    await assertFails(firestoreOf("bob").collection("users/alice/messages").get());
    await assertFails(firestoreOf().doc("users/alice/chats/c1").get());
  });

  it("lets no client write anything, not even their own documents", async () => {
    const database = firestoreOf("alice");
    await assertFails(database.doc("users/alice/chats/c2").set({ title: "forged" }));
    await assertFails(database.doc("users/alice/messages/m1").update({ status: "done", content: "edited" }));
    await assertFails(database.doc("users/alice/chats/c1").delete());
    await assertFails(database.doc("users/alice/counters/rate").set({ tokens: 1000 }));
  });

  it("denies everything outside users/{uid}", async () => {
    await assertFails(firestoreOf("alice").doc("_atelier/health").get());
    await assertFails(firestoreOf("alice").doc("anything/else").set({ a: 1 }));
    await assertFails(firestoreOf("alice").collection("api_keys").get());
    await assertFails(
      firestoreOf("alice")
        .doc("api_keys/key-1")
        .set({ scopes: ["admin"] }),
    );
  });
});
