import type { Route } from "../router.ts";

/** `GET /account` (+): who the token says the caller is, so a client can check its sign-in and tier. */
export function accountRoutes(): Route[] {
  return [
    {
      method: "GET",
      path: "/account",
      access: "user",
      handle: (context) => {
        const { uid, admin, tier } = context.caller;
        context.sendJson(200, { ok: true, uid, admin, tier: tier ?? "free" });
        return Promise.resolve();
      },
    },
  ];
}
