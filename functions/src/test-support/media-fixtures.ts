import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { ApiServer } from "./api-server.ts";

/** A valid 1×1 PNG: the smallest real image to upload or attach. */
export const TINY_PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
  "base64",
);

/** Every media file a user has in an embedded server's store (the file store keeps objects under `objects/`). */
export function mediaFilesOf(server: ApiServer, uid: string): string[] {
  const root = join(server.config.embeddedDataDirectory, "media", "objects", "users", uid);
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}
