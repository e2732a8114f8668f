import type { CleanupService } from "../../cleanup/cleanup-service.ts";
import type { Route } from "../router.ts";
import type { CleanupResult } from "../../contract/resources.ts";

/** `POST /admin/cleanup` (admin claim): one bounded round of the maintenance sweep. */
export function adminRoutes(cleanup: CleanupService): Route[] {
  return [
    {
      method: "POST",
      path: "/admin/cleanup",
      access: "admin",
      handle: async (context) => {
        await context.readJson();
        const { more, ...removed } = await cleanup.sweep();
        context.sendJson(200, { ok: true, removed, more } satisfies CleanupResult);
      },
    },
  ];
}
