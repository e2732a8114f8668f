import { describeDocumentDatabaseContract } from "./document-database.contract.ts";
import { openFirestoreDocumentDatabase } from "./firestore-document-database.ts";

const emulatorHost = process.env.FIRESTORE_EMULATOR_HOST ?? "";

if (emulatorHost === "") {
  describe("FirestoreDocumentDatabase", () => {
    it("runs the DocumentDatabase contract against the Firestore emulator (skipped: FIRESTORE_EMULATOR_HOST is not set; `npm run emulators` with Java 21 provides it)", function () {
      this.skip();
    });
  });
} else {
  describeDocumentDatabaseContract(`firestore emulator at ${emulatorHost}`, async () => {
    const { initializeApp } = await import("firebase-admin/app");
    const app = initializeApp({ projectId: "demo-atelier" }, `contract-${Date.now()}`);
    return openFirestoreDocumentDatabase(app);
  });
}
