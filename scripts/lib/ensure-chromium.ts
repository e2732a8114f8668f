import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

/**
 * The browser tests drive Debian's Chromium (playwright-core ships no browser, and the machines reach no
 * browser download site, only Debian's packages). This finds it, or installs it with apt-get when running as
 * root, or says in plain words why the browser tests cannot run here.
 */

export const CHROMIUM_PATH = "/usr/bin/chromium";

export type ChromiumAvailability =
  | { readonly available: true; readonly executablePath: string; readonly installed: boolean }
  | { readonly available: false; readonly reason: string };

function aptGet(args: readonly string[]): { ok: boolean; output: string } {
  const result = spawnSync("apt-get", args, {
    encoding: "utf8",
    timeout: 600_000,
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}`.slice(-2000) };
}

/** Returns Chromium's path, installing the `chromium` package first if it is missing and we may. */
export function ensureChromium(): ChromiumAvailability {
  if (existsSync(CHROMIUM_PATH)) return { available: true, executablePath: CHROMIUM_PATH, installed: false };
  if (process.platform !== "linux") return { available: false, reason: `${CHROMIUM_PATH} is missing (not Linux)` };
  if (process.getuid?.() !== 0) {
    return { available: false, reason: `${CHROMIUM_PATH} is missing; run as root or: apt-get install -y chromium` };
  }
  if (spawnSync("apt-get", ["--version"]).status !== 0) {
    return { available: false, reason: `${CHROMIUM_PATH} is missing and apt-get is not available` };
  }
  console.log("Installing Chromium for the browser tests (apt-get install -y chromium, once)...");
  // A fresh machine's package lists may be empty or stale: the first install attempt then fails quickly.
  let install = aptGet(["install", "-y", "--no-install-recommends", "chromium"]);
  if (!install.ok) {
    const update = aptGet(["update"]);
    if (!update.ok) return { available: false, reason: `apt-get update failed:\n${update.output}` };
    install = aptGet(["install", "-y", "--no-install-recommends", "chromium"]);
  }
  if (!install.ok || !existsSync(CHROMIUM_PATH)) {
    return { available: false, reason: `apt-get install -y chromium failed:\n${install.output}` };
  }
  return { available: true, executablePath: CHROMIUM_PATH, installed: true };
}
