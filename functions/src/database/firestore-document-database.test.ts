import { describeDocumentDatabaseContract } from "./document-database.contract.ts";
import { openFirestoreDocumentDatabase } from "./firestore-document-database.ts";

const emulatorHost = process.env.FIRESTORE_EMULATOR_HOST ?? "";

describe("openFirestoreDocumentDatabase", () => {
  it("opens the same app's database again, as services rebuilt after a failed start-up do", async () => {
    const { initializeApp, deleteApp } = await import("firebase-admin/app");
    const app = initializeApp({ projectId: "demo-atelier" }, `reopen-${Date.now()}`);
    try {
      // No request is made: settings apply before the first one, which is where a second call used to throw.
      await openFirestoreDocumentDatabase(app);
      await openFirestoreDocumentDatabase(app);
    } finally {
      await deleteApp(app);
    }
  });
});

if (emulatorHost === "") {
  describe("FirestoreDocumentDatabase", () => {
    it("runs the DocumentDatabase contract against the Firestore emulator (skipped: FIRESTORE_EMULATOR_HOST is not set; `npm run emulators` with Java 21 provides it)", function () {
      this.skip();
    });
  });
} else {
  describeDocumentDatabaseContract(
    `firestore emulator at ${emulatorHost}`,
    async () => {
      const { initializeApp } = await import("firebase-admin/app");
      const app = initializeApp({ projectId: "demo-atelier" }, `contract-${Date.now()}`);
      return openFirestoreDocumentDatabase(app);
    },
    { enforcesIndexes: false },
  );
}
