import type { AccountService } from "../../account/account-service.ts";
import type { Route } from "../router.ts";
import type { Account, AccountDeletion, AccountExport } from "../../contract/resources.ts";

/**
 * `GET /account` (+): who the token says the caller is, so a client can check its sign-in and tier.
 * `GET /account/export` (+): everything of the caller's, as JSON. `DELETE /account` (+): all of it, and the account.
 */
export function accountRoutes(accounts: AccountService): Route[] {
  return [
    {
      method: "GET",
      path: "/account",
      access: "users",
      handle: (context) => {
        const { uid, admin, tier } = context.caller;
        context.sendJson(200, { ok: true, uid, admin, tier: tier ?? "free" } satisfies Account);
        return Promise.resolve();
      },
    },
    {
      method: "GET",
      path: "/account/export",
      access: "users",
      rateLimited: true,
      handle: async (context) => {
        context.response.setHeader("Content-Disposition", 'attachment; filename="atelier-export.json"');
        context.sendJson(200, (await accounts.exportAccount(context.caller.uid)) satisfies AccountExport);
      },
    },
    {
      method: "DELETE",
      path: "/account",
      access: "users",
      rateLimited: true,
      handle: async (context) => {
        const deleted = await accounts.deleteAccount(context.caller.uid);
        context.sendJson(200, { ok: true, deleted } satisfies AccountDeletion);
      },
    },
  ];
}
