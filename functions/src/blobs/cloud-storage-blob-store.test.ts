import { describeBlobStoreContract } from "./blob-store.contract.ts";
import { openCloudStorageBlobStore } from "./cloud-storage-blob-store.ts";

const emulatorHost = process.env.STORAGE_EMULATOR_HOST ?? "";

if (emulatorHost === "") {
  describe("CloudStorageBlobStore", () => {
    it("runs the BlobStore contract against the Storage emulator (skipped: STORAGE_EMULATOR_HOST is not set; `npm run emulators` with Java 21 provides it)", function () {
      this.skip();
    });
  });
} else {
  describeBlobStoreContract(
    `cloud storage emulator at ${emulatorHost}`,
    async () => {
      const { initializeApp } = await import("firebase-admin/app");
      const app = initializeApp({ projectId: "demo-atelier" }, `blob-contract-${Date.now()}`);
      return openCloudStorageBlobStore(app, "demo-atelier.appspot.com");
    },
    async (url) => {
      const response = await fetch(url);
      return {
        status: response.status,
        contentType: response.headers.get("content-type"),
        bytes: Buffer.from(await response.arrayBuffer()),
      };
    },
  );
}
