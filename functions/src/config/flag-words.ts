/**
 * The words an on/off setting accepts (case-insensitive), shared by the settings schema and by the code that
 * reads a flag before zod is loaded (deploy-time secret binding), so both read `TAVILY_ENABLED=off` alike.
 */
export const TRUE_WORDS = ["true", "1", "yes", "on", "y", "enabled"] as const;
export const FALSE_WORDS = ["false", "0", "no", "off", "n", "disabled"] as const;

/** Whether a flag's raw value switches it off (anything else leaves the default or fails schema validation). */
export function isSwitchedOff(value: string | undefined): boolean {
  return value !== undefined && (FALSE_WORDS as readonly string[]).includes(value.toLowerCase());
}

/** Whether a flag's raw value switches it on. */
export function isSwitchedOn(value: string | undefined): boolean {
  return value !== undefined && (TRUE_WORDS as readonly string[]).includes(value.toLowerCase());
}
