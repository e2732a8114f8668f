import type { ApiKeys } from "../../auth/api-keys.ts";
import { apiKeyCreateSchema } from "../../contract/request-bodies.ts";
import type { ApiKeyList, CreatedApiKey, RevokedApiKey } from "../../contract/resources.ts";
import { CLIENT_ID_PATTERN } from "../../contract/identifiers.ts";
import { AppError, notFound } from "../../errors/app-error.ts";
import { parseInput } from "../../errors/parse-input.ts";
import type { Route } from "../router.ts";

/**
 * Service API keys, for admins (the `admin` claim or a key with the `admin` scope): `POST /admin/api-keys` mints
 * one and shows it once, `GET /admin/api-keys` lists them without secrets, `DELETE /admin/api-keys/{key_id}`
 * revokes one. Where keys are not enabled (no hash secret configured), minting answers 503.
 */
export function apiKeyRoutes(apiKeys: ApiKeys | undefined): Route[] {
  const enabled = (): ApiKeys => {
    if (apiKeys !== undefined) return apiKeys;
    throw new AppError("unavailable", "Service API keys are not enabled on this server (API_KEYS_ENABLED).", {
      httpStatus: 503,
    });
  };
  return [
    {
      method: "POST",
      path: "/admin/api-keys",
      access: "admin",
      handle: async (context) => {
        const body = parseInput(apiKeyCreateSchema, await context.readJson());
        const { caller } = context;
        const { key, apiKey } = await enabled().mint(body.name, body.scopes, caller.keyId ?? caller.uid);
        const created: CreatedApiKey = { ok: true, ...key, api_key: apiKey };
        context.sendJson(201, created);
      },
    },
    {
      method: "GET",
      path: "/admin/api-keys",
      access: "admin",
      handle: async (context) => {
        const list: ApiKeyList = { ok: true, api_keys: apiKeys === undefined ? [] : await apiKeys.list() };
        context.sendJson(200, list);
      },
    },
    {
      method: "DELETE",
      path: "/admin/api-keys/:keyId",
      access: "admin",
      handle: async (context) => {
        const keyId = context.params.keyId ?? "";
        if (!CLIENT_ID_PATTERN.test(keyId)) throw notFound("API key");
        context.sendJson(200, { ok: true, ...(await enabled().revoke(keyId)) } satisfies RevokedApiKey);
      },
    },
  ];
}
