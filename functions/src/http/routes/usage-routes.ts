import type { UsageReport } from "../../account/usage-report.ts";
import { budgetBodySchema } from "../../contract/request-bodies.ts";
import type { AccountUsage, AdminUsage, BudgetSet, ProviderRun } from "../../contract/resources.ts";
import { CLIENT_ID_PATTERN } from "../../contract/identifiers.ts";
import { invalidArgument } from "../../errors/app-error.ts";
import { parseInput } from "../../errors/parse-input.ts";
import type { RequestContext } from "../request-context.ts";
import type { Route } from "../router.ts";
import { pageOf } from "./page-query.ts";

/**
 * Spending: `GET /account/usage` (the caller's month, budget and last 30 days), and for admins
 * `GET /admin/usage?month=YYYY-MM` (users by spend, paged) and `POST /admin/users/{uid}/budget`.
 * `?provider=live|simulated` picks the ledger; the default is the one this server's chat answers go to.
 */
export function usageRoutes(usage: UsageReport, defaultProvider: ProviderRun): Route[] {
  const providerOf = (context: RequestContext): ProviderRun => {
    const asked = context.query.get("provider");
    if (asked === null || asked === "") return defaultProvider;
    if (asked === "live" || asked === "simulated") return asked;
    throw invalidArgument("Invalid provider.", { provider: "live or simulated" });
  };
  return [
    {
      method: "GET",
      path: "/account/usage",
      access: "users",
      handle: async (context) => {
        const { caller } = context;
        const report = await usage.forUser(caller.uid, caller, providerOf(context));
        context.sendJson(200, report satisfies AccountUsage);
      },
    },
    {
      method: "GET",
      path: "/admin/usage",
      access: "admin",
      handle: async (context) => {
        const month = context.query.get("month") ?? usage.currentMonth();
        const { limit, cursor } = pageOf(context, 50, 500);
        const report = await usage.ranking(month, providerOf(context), limit, cursor);
        context.sendJson(200, report satisfies AdminUsage);
      },
    },
    {
      method: "POST",
      path: "/admin/users/:uid/budget",
      access: "admin",
      handle: async (context) => {
        const uid = context.params.uid ?? "";
        if (!CLIENT_ID_PATTERN.test(uid)) throw invalidArgument("Invalid uid.", { uid: "Not a user id" });
        const body = parseInput(budgetBodySchema, await context.readJson());
        const set = await usage.setBudget(uid, body.monthly_usd);
        context.sendJson(200, { ok: true, uid, ...set } satisfies BudgetSet);
      },
    },
  ];
}
