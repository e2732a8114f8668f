import assert from "node:assert/strict";
import { createServer } from "node:http";
import { describeBlobStoreContract } from "./blob-store.contract.ts";
import { openCloudStorageBlobStore } from "./cloud-storage-blob-store.ts";

const emulatorHost = process.env.STORAGE_EMULATOR_HOST ?? "";

describe("CloudStorageBlobStore health", function () {
  this.timeout(20_000);

  it("fails its ping when the bucket does not exist, rather than reporting storage as up", async () => {
    // The real Storage SDK against a local server speaking its JSON API: one bucket exists, another does not.
    const server = createServer((request, response) => {
      const found = (request.url ?? "").startsWith("/b/present-bucket");
      response.writeHead(found ? 200 : 404, { "Content-Type": "application/json" });
      response.end(
        JSON.stringify(
          found ? { kind: "storage#bucket", name: "present-bucket" } : { error: { code: 404, message: "Not Found" } },
        ),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    const previous = process.env.STORAGE_EMULATOR_HOST;
    process.env.STORAGE_EMULATOR_HOST = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`;
    const { initializeApp, deleteApp } = await import("firebase-admin/app");
    const app = initializeApp({ projectId: "demo-atelier" }, `bucket-health-${Date.now()}`);
    try {
      await (await openCloudStorageBlobStore(app, "present-bucket")).ping();
      await assert.rejects((await openCloudStorageBlobStore(app, "missing-bucket")).ping(), /does not exist/);
    } finally {
      if (previous === undefined) delete process.env.STORAGE_EMULATOR_HOST;
      else process.env.STORAGE_EMULATOR_HOST = previous;
      await deleteApp(app);
      server.close();
    }
  });
});

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
