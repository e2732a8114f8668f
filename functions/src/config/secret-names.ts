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
