/**
 * When the scheduled sweep runs unless `CLEANUP_SCHEDULE` says otherwise (UTC). Every 15 minutes, so an answer
 * whose instance died shows its spinner for minutes, not until the night, even if nobody opens it. Kept apart
 * from the settings schema so that the functions entry can read it at deploy time without loading zod.
 */
export const DEFAULT_CLEANUP_SCHEDULE = "every 15 minutes";
