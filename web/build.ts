/**
 * Builds the reference web client: bundles web/src/main.ts (with the Firebase JS SDK) into one ES module with
 * esbuild and copies the page and its styles beside it. `npm run build:web` writes web/dist/ (what Firebase
 * Hosting serves); the local stack calls `buildWebClient` with its own folder. The runtime settings
 * (`config.json`) are not part of the build: whoever serves the folder writes them (see web/src/app-config.ts),
 * and a build removes any left over, so a deploy (whose predeploy step is this build) never ships the local
 * stack's settings, which point at 127.0.0.1.
 */
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const webFolder = fileURLToPath(new URL(".", import.meta.url));

/** The folder `firebase.json` tells Hosting to serve. */
export const WEB_DIST = join(webFolder, "dist");

/** The files the page needs besides the bundle. */
const STATIC_FILES = ["index.html", "styles.css"] as const;

/** The runtime settings' file name, beside the page. */
export const WEB_CONFIG_FILE = "config.json";

export async function buildWebClient(outputDirectory: string = WEB_DIST): Promise<void> {
  mkdirSync(outputDirectory, { recursive: true });
  rmSync(join(outputDirectory, WEB_CONFIG_FILE), { force: true });
  await build({
    entryPoints: [join(webFolder, "src", "main.ts")],
    outfile: join(outputDirectory, "app.js"),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: ["es2022"],
    minify: true,
    sourcemap: "linked",
    legalComments: "linked",
    logLevel: "warning",
  });
  for (const file of STATIC_FILES) copyFileSync(join(webFolder, file), join(outputDirectory, file));
}

if (import.meta.main) {
  await buildWebClient();
  console.log(`web client built into ${WEB_DIST}`);
}
