import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { buildWebClient, WEB_CONFIG_FILE } from "../web/build.ts";
import { repositoryRoot } from "./lib/paths.ts";

const run = promisify(execFile);

interface FirebaseJson {
  readonly functions: readonly { source: string; ignore: string[]; predeploy: string[] }[];
  readonly hosting: { public: string; predeploy: string[] };
}

const firebaseJson = JSON.parse(readFileSync(join(repositoryRoot, "firebase.json"), "utf8")) as FirebaseJson;
const functionsPackage = JSON.parse(readFileSync(join(repositoryRoot, "functions", "package.json"), "utf8")) as {
  main: string;
  scripts?: Record<string, string>;
};

describe("what `firebase deploy` runs (firebase.json)", function () {
  this.timeout(60_000);

  it("builds the functions with the predeploy step exactly as written, from the functions package's own script", async () => {
    const [codebase] = firebaseJson.functions;
    assert.ok(codebase !== undefined);
    const resourceDirectory = join(repositoryRoot, codebase.source);
    const entry = join(resourceDirectory, functionsPackage.main);
    const before = existsSync(entry) ? statSync(entry).mtimeMs : 0;
    for (const step of codebase.predeploy) {
      await run("sh", ["-c", step], { cwd: repositoryRoot, env: { ...process.env, RESOURCE_DIR: resourceDirectory } });
    }
    assert.ok(statSync(entry).mtimeMs > before, `${functionsPackage.main} was rebuilt`);
  });

  it("uploads compiled code only, so Cloud Build must not run the build again (an empty gcp-build)", () => {
    const [codebase] = firebaseJson.functions;
    assert.ok(codebase?.ignore.includes("src"));
    // The Node.js runtime runs `npm run build` when it finds one, unless `gcp-build` says otherwise.
    assert.equal(functionsPackage.scripts?.["gcp-build"], "");
  });

  it("builds the web client without the local stack's config.json, so a deployed client never calls 127.0.0.1", async () => {
    assert.deepEqual(firebaseJson.hosting.predeploy, ["npm run build:web"]);
    const folder = mkdtempSync(join(tmpdir(), "atelier-web-"));
    try {
      writeFileSync(join(folder, WEB_CONFIG_FILE), JSON.stringify({ backendUrl: "http://127.0.0.1:5001/x" }));
      await buildWebClient(folder);
      assert.equal(existsSync(join(folder, WEB_CONFIG_FILE)), false);
      assert.ok(existsSync(join(folder, "app.js")) && existsSync(join(folder, "index.html")));
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
