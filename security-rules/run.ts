/**
 * `npm run test:rules`: the security-rules tests against the real Firestore and Storage emulators. Those
 * emulators need Java 21+ (and download their jars on first use); where that is missing, the tests are skipped
 * with the reason printed, and the rest of `npm test` goes on.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../functions/src/test-support/free-port.ts";
import { repositoryRoot } from "../scripts/lib/paths.ts";

const java = spawnSync("java", ["-version"], { encoding: "utf8" });
const version = /version "(\d+)/.exec(`${java.stderr}${java.stdout}`)?.[1];
if (java.error !== undefined || version === undefined || Number(version) < 21) {
  console.log(
    `Skipped the security-rules tests: the Firestore and Storage emulators need Java 21 or newer ` +
      `(this machine has ${version === undefined ? "no Java" : `Java ${version}`}). ` +
      `Run \`npm run test:rules\` on a machine with Java 21 to run them.`,
  );
  process.exit(0);
}

const directory = mkdtempSync(join(tmpdir(), "atelier-rules-"));
const config = join(directory, "firebase.json");
writeFileSync(
  config,
  JSON.stringify({
    firestore: { rules: join(repositoryRoot, "firestore.rules") },
    storage: { rules: join(repositoryRoot, "storage.rules") },
    emulators: {
      singleProjectMode: true,
      firestore: { host: "127.0.0.1", port: await freePort() },
      storage: { host: "127.0.0.1", port: await freePort() },
      hub: { host: "127.0.0.1", port: await freePort() },
      logging: { host: "127.0.0.1", port: await freePort() },
      ui: { enabled: false },
    },
  }),
);
const mocha = `${join(repositoryRoot, "node_modules", ".bin", "mocha")} --no-config --extension ts --timeout 30000 --node-option disable-warning=ExperimentalWarning ${join(repositoryRoot, "security-rules")}/*.rules.test.ts`;
const result = spawnSync(
  join(repositoryRoot, "node_modules", ".bin", "firebase"),
  ["emulators:exec", "--only", "firestore,storage", "--project", "demo-atelier-rules", "--config", config, mocha],
  { cwd: repositoryRoot, stdio: "inherit" },
);
rmSync(directory, { recursive: true, force: true });
process.exit(result.status ?? 1);
