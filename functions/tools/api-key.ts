/**
 * `npm run api-key -- create --name <name> --scopes admin[,chat,jobs,history:read]`, `npm run api-key -- list`,
 * `npm run api-key -- revoke <key_id>`: manages service API keys from the command line, straight against the data
 * backend. This is how an operator bootstraps the first admin key (later keys can be minted through
 * `POST /admin/api-keys` with it) and rotates one: mint the new key, move the service to it, revoke the old one.
 *
 * Embedded mode (the local stack): run from the repository root, it uses `.data/` like `npm start`. Firebase
 * mode: `DATA_BACKEND=firebase FIREBASE_PROJECT_ID=<id> API_KEYS_ENABLED=true API_KEY_HASH_SECRET=<the secret>`
 * with Application Default Credentials. The key is printed once, on stdout, and nowhere else.
 */
import { parseArgs } from "node:util";
import { API_KEY_SCOPES, type ApiKeyScope } from "../src/contract/resources.ts";
import { loadRuntimeConfig } from "../src/config/runtime-config.ts";
import { createServices } from "../src/runtime/services.ts";

const usage =
  "usage: npm run api-key -- create --name <name> --scopes <scope,...> | list | revoke <key_id>\n" +
  `scopes: ${API_KEY_SCOPES.join(", ")}`;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { name: { type: "string" }, scopes: { type: "string" } },
});
const [command, keyId] = positionals;
const fail = (message: string): never => {
  console.error(`${message}\n${usage}`);
  process.exit(2);
};

const services = await createServices(loadRuntimeConfig(process.env), { logSink: () => undefined });
try {
  const apiKeys = services.apiKeys ?? fail("Service API keys are not enabled here: set API_KEYS_ENABLED=true.");
  if (command === "create") {
    const name = values.name?.trim() ?? "";
    const scopes = (values.scopes ?? "").split(",").map((scope) => scope.trim());
    if (name === "") fail("--name is required");
    const unknown = scopes.filter((scope) => !(API_KEY_SCOPES as readonly string[]).includes(scope));
    if (unknown.length > 0) fail(`unknown scopes: ${unknown.join(", ")}`);
    const { key, apiKey } = await apiKeys.mint(name, scopes as ApiKeyScope[], "command line");
    console.error(`minted ${key.key_id} (${key.scopes.join(", ")}); the key is shown once, below:`);
    console.log(apiKey);
  } else if (command === "list") {
    console.log(JSON.stringify(await apiKeys.list(), null, 2));
  } else if (command === "revoke" && keyId !== undefined) {
    console.log(JSON.stringify(await apiKeys.revoke(keyId), null, 2));
  } else {
    fail("unknown command");
  }
} finally {
  await services.close();
}
