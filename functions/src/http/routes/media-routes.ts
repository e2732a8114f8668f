import { AppError } from "../../errors/app-error.ts";
import type { FileBlobStore } from "../../blobs/file-blob-store.ts";
import type { Route } from "../router.ts";

/**
 * Embedded mode's media server: `GET /media/<path>?expires=&signature=` returns the blob's bytes. The URL is
 * the credential (as a Cloud Storage download URL is), so the route is public and checks the signature first:
 * a bad or expired URL says nothing about whether the blob exists. Single byte ranges are honoured, which
 * lets a `<video>` element seek.
 */
export function mediaRoutes(blobs: FileBlobStore): Route[] {
  return [
    {
      method: "GET",
      path: "/media/*",
      access: "public",
      handle: async (context) => {
        const path = context.params["*"] ?? "";
        const expires = Number(context.query.get("expires"));
        const signature = context.query.get("signature") ?? "";
        if (!blobs.verify(path, expires, signature)) {
          throw new AppError("permission_denied", "This media URL is invalid or has expired.");
        }
        const blob = await blobs.get(path);
        if (blob === null) throw new AppError("not_found", "Media not found.");
        const headers: Record<string, string | number> = {
          "Content-Type": blob.contentType,
          "Cache-Control": `private, max-age=${Math.max(0, expires - Math.floor(Date.now() / 1000))}`,
          "Accept-Ranges": "bytes",
          "Content-Security-Policy": "default-src 'none'; sandbox",
        };
        const range = /^bytes=(\d*)-(\d*)$/.exec(context.header("range") ?? "");
        if (range !== null && (range[1] !== "" || range[2] !== "")) {
          const size = blob.bytes.length;
          const start = range[1] === "" ? Math.max(0, size - Number(range[2])) : Number(range[1]);
          const end = range[1] === "" || range[2] === "" ? size - 1 : Math.min(Number(range[2]), size - 1);
          if (start > end || start >= size) {
            context.response.writeHead(416, { "Content-Range": `bytes */${size}` }).end();
            return;
          }
          context.response.writeHead(206, {
            ...headers,
            "Content-Range": `bytes ${start}-${end}/${size}`,
            "Content-Length": end - start + 1,
          });
          context.response.end(blob.bytes.subarray(start, end + 1));
          return;
        }
        context.response.writeHead(200, { ...headers, "Content-Length": blob.bytes.length });
        context.response.end(blob.bytes);
      },
    },
  ];
}
