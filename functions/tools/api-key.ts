/**
 * `npm run api-key -- create --name <name> --scopes admin[,chat,jobs,history:read]`, `npm run api-key -- list`,
 * `npm run api-key -- revoke <key_id>`: manages service API keys from the command line, straight against the data
 * backend. This is how an operator bootstraps the first admin key (later keys can be minted through
 * `POST /admin/api-keys` with it) and rotates one: mint the new key, move the service to it, revoke the old one.
 *
 * Embedded mode (the local stack): run from the repository root, it uses `.data/` like `npm start`. Firebase
 * mode: `DATA_BACKEND=firebase FIREBASE_PROJECT_ID=<id> API_KEYS_ENABLED=true API_KEY_HASH_SECRET=<the secret>`
 * with Application Default Credentials. It says on stderr which store it writes to; the key is printed once, on
 * stdout, and nowhere else.
 */
import { parseArgs } from "node:util";
import { CLIENT_ID_PATTERN } from "../src/contract/identifiers.ts";
import { apiKeyCreateSchema } from "../src/contract/request-bodies.ts";
import { loadRuntimeConfig } from "../src/config/runtime-config.ts";
import { createServices } from "../src/runtime/services.ts";

const usage =
  "usage: npm run api-key -- create --name <name> --scopes <scope,...> | list | revoke <key_id>\n" +
  "scopes: chat, jobs, history:read, admin";

function fail(message: string): never {
  console.error(`${message}\n${usage}`);
  process.exit(2);
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { name: { type: "string" }, scopes: { type: "string" } },
});
const [command, keyId] = positionals;
let created: ReturnType<typeof apiKeyCreateSchema.parse> | undefined;
if (command === "create") {
  const parsed = apiKeyCreateSchema.safeParse({
    name: values.name ?? "",
    scopes: (values.scopes ?? "").split(",").map((scope) => scope.trim()),
  });
  if (!parsed.success) fail(parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("\n"));
  created = parsed.data;
} else if (command === "revoke") {
  if (keyId === undefined || !CLIENT_ID_PATTERN.test(keyId)) fail("revoke needs a key id (key-...)");
} else if (command !== "list") {
  fail("unknown command");
}
// A project named without a backend would otherwise write a key to the local store and look like success.
if (process.env.FIREBASE_PROJECT_ID !== undefined && process.env.DATA_BACKEND === undefined) {
  fail("FIREBASE_PROJECT_ID is set: set DATA_BACKEND=firebase for that project, or DATA_BACKEND=embedded for .data/.");
}

const config = loadRuntimeConfig(process.env);
console.error(
  config.mode === "firebase"
    ? `api keys of Firestore in project ${config.projectId}`
    : `api keys of the embedded store in ${config.embeddedDataDirectory}`,
);
const services = await createServices(config, { logSink: () => undefined });
let exitCode = 0;
try {
  const apiKeys = services.apiKeys;
  if (apiKeys === undefined) {
    console.error("Service API keys are not enabled here: set API_KEYS_ENABLED=true and API_KEY_HASH_SECRET.");
    exitCode = 2;
  } else if (created !== undefined) {
    const { key, apiKey } = await apiKeys.mint(created.name, created.scopes, "command line");
    console.error(`minted ${key.key_id} (${key.scopes.join(", ")}); the key is shown once, below:`);
    console.log(apiKey);
  } else if (command === "revoke") {
    console.log(JSON.stringify(await apiKeys.revoke(keyId ?? ""), null, 2));
  } else {
    console.log(JSON.stringify(await apiKeys.list(), null, 2));
  }
} finally {
  await services.close();
}
process.exitCode = exitCode;
