import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { repositoryRoot } from "../scripts/lib/paths.ts";

/**
 * What the browser tests share: Debian's Chromium driven by playwright-core, and where screenshots go.
 *
 * The machines have no internet: Chromium's background services (updates, sync, QUIC probes, field trials) are
 * switched off so they do not fill the run with refused connections. Playwright gives every launch a fresh
 * temporary profile (`--user-data-dir`), so nothing carries over between runs.
 */

const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
  "--no-first-run",
];

export function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({ executablePath, headless: true, chromiumSandbox: false, args: CHROMIUM_FLAGS });
}

/** Screenshots for people to look at after a run (git-ignored). */
export const SCREENSHOT_FOLDER = join(repositoryRoot, "test-output", "browser");

export async function saveScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_FOLDER, { recursive: true });
  const path = join(SCREENSHOT_FOLDER, `${name.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}.png`);
  await page.screenshot({ path });
  return path;
}
