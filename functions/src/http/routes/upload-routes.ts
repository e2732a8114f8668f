import { imageInputSchema } from "../../contract/request-bodies.ts";
import type { UploadService } from "../../uploads/upload-service.ts";
import type { Route } from "../router.ts";
import { parseInput } from "../../errors/parse-input.ts";
import type { Upload, UploadDeletion } from "../../contract/resources.ts";

/**
 * `POST /uploads` (+): an image to attach to a chat turn or to edit, for clients without direct Storage access,
 * counted against the daily upload limits (and the per-minute rate limit, like the generating routes).
 * `DELETE /uploads/{id}` (+): removes one of the caller's uploads.
 */
export function uploadRoutes(uploads: UploadService): Route[] {
  return [
    {
      method: "POST",
      path: "/uploads",
      access: "jobs",
      rateLimited: true,
      handle: async (context) => {
        const input = parseInput(imageInputSchema, await context.readJson());
        context.sendJson(200, (await uploads.store(context.caller.uid, input)) satisfies Upload);
      },
    },
    {
      method: "DELETE",
      path: "/uploads/:uploadId",
      access: "jobs",
      handle: async (context) => {
        const id = context.params.uploadId ?? "";
        await uploads.remove(context.caller.uid, id);
        context.sendJson(200, { ok: true, id } satisfies UploadDeletion);
      },
    },
  ];
}
