import { isSwitchedOff, isSwitchedOn } from "./flag-words.ts";
import type { SettingName } from "./settings.ts";

/**
 * Provider API keys bound from Secret Manager in production (`defineSecret`). Kept apart from the zod schema
 * (the import above is type-only) so the functions entry can declare them without loading zod at cold start.
 */
const PROVIDER_SECRET_NAMES = [
  "GEMINI_API_KEY",
  "NANO_BANANA_API_KEY",
  "VEO_API_KEY",
  "TAVILY_API_KEY",
  "OPENAI_COMPATIBLE_API_KEY",
] as const satisfies readonly SettingName[];

/**
 * The secrets a deployment binds to its functions (read at deploy time from `functions/.env.<project>`): every
 * Google key; Tavily's unless grounding is switched off with `TAVILY_ENABLED=false`, so that a project without a
 * Tavily account can deploy; the OpenAI-compatible server's key only when `OPENAI_COMPATIBLE_BASE_URL` names one;
 * the API-key hash secret only when `API_KEYS_ENABLED` turns service API keys on; and the secrets the operator's
 * downstream tools send (`TOOL_SECRETS`, comma-separated names); and the OTLP collector's headers when
 * `OTEL_EXPORTER_OTLP_ENDPOINT` names one and Google credentials do not sign the exports instead
 * (`OTEL_EXPORTER_GOOGLE_AUTH`); a collector that wants no header takes any value, e.g. `x-unused=1`.
 */
export function deployedSecretNames(env: Readonly<Record<string, string | undefined>>): readonly string[] {
  const groundingOff = isSwitchedOff(env.TAVILY_ENABLED);
  const openAiCompatible = (env.OPENAI_COMPATIBLE_BASE_URL ?? "").trim() !== "";
  const providers = PROVIDER_SECRET_NAMES.filter(
    (name) =>
      !(groundingOff && name === "TAVILY_API_KEY") && (openAiCompatible || name !== "OPENAI_COMPATIBLE_API_KEY"),
  );
  const tools = (env.TOOL_SECRETS ?? "")
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name !== "");
  const otlp =
    (env.OTEL_EXPORTER_OTLP_ENDPOINT ?? "").trim() !== "" && !isSwitchedOn(env.OTEL_EXPORTER_GOOGLE_AUTH)
      ? ["OTEL_EXPORTER_OTLP_HEADERS"]
      : [];
  return [...providers, ...(isSwitchedOn(env.API_KEYS_ENABLED) ? ["API_KEY_HASH_SECRET"] : []), ...tools, ...otlp];
}
