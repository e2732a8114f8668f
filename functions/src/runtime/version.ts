import { readFileSync } from "node:fs";

let cached: string | undefined;

/** The deployed package's version, read once (the same path works from `src/` and `lib/`). */
export function packageVersion(): string {
  if (cached === undefined) {
    try {
      const manifest = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
        version?: string;
      };
      cached = manifest.version ?? "unknown";
    } catch {
      cached = "unknown";
    }
  }
  return cached;
}
