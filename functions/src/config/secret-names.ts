import { isSwitchedOff } from "./flag-words.ts";
import type { SettingName } from "./settings.ts";

/**
 * Provider API keys bound from Secret Manager in production (`defineSecret`). Kept apart from the zod schema
 * (the import above is type-only) so the functions entry can declare them without loading zod at cold start.
 */
export const PROVIDER_SECRET_NAMES = [
  "GEMINI_API_KEY",
  "NANO_BANANA_API_KEY",
  "VEO_API_KEY",
  "TAVILY_API_KEY",
] as const satisfies readonly SettingName[];

/**
 * The secrets a deployment binds to its functions: every provider key, except Tavily's when grounding is switched
 * off with `TAVILY_ENABLED=false` (read at deploy time from `functions/.env.<project>`), so that a project without
 * a Tavily account can deploy.
 */
export function deployedSecretNames(env: Readonly<Record<string, string | undefined>>): readonly string[] {
  const groundingOff = isSwitchedOff(env.TAVILY_ENABLED);
  return PROVIDER_SECRET_NAMES.filter((name) => !(groundingOff && name === "TAVILY_API_KEY"));
}
