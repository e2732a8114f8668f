/**
 * `npm run cleanup`: runs the maintenance sweep through `POST /admin/cleanup` until nothing is left (as the
 * scheduled `cleanup` function does in production), printing what each round removed.
 *
 * Needs an admin ID token: FIREBASE_ID_TOKEN (with the `admin: true` claim), or, against the local stack, it
 * signs in an admin test user on the Auth emulator. BACKEND_URL defaults to the local stack.
 */
import { AuthEmulatorClient } from "../functions/src/test-support/auth-emulator-client.ts";
import { configuredPorts, DEFAULT_PROJECT_ID } from "./lib/local-stack.ts";
import { fail, postJson, smokeSetup } from "./lib/smoke.ts";
import type { CleanupResult } from "../functions/src/contract/resources.ts";

let token = process.env.FIREBASE_ID_TOKEN ?? "";
if (token === "") {
  const host = process.env.FIREBASE_AUTH_EMULATOR_HOST ?? `127.0.0.1:${String(configuredPorts().auth)}`;
  const emulator = new AuthEmulatorClient(host, process.env.FIREBASE_PROJECT_ID ?? DEFAULT_PROJECT_ID);
  if (!(await emulator.isReachable())) fail("set FIREBASE_ID_TOKEN to an admin user's ID token");
  const user = await emulator.signInOrSignUp("admin@atelier.test", "atelier-local-password");
  await emulator.setClaims(user.uid, { admin: true });
  token = (await emulator.signIn("admin@atelier.test", "atelier-local-password")).idToken;
  process.env.FIREBASE_ID_TOKEN = token;
}
const { backendUrl } = await smokeSetup();

for (let round = 1; round <= 100; round++) {
  const result = await postJson<CleanupResult>(`${backendUrl}/admin/cleanup`, token, {});
  console.log(`round ${String(round)}: removed ${JSON.stringify(result.removed)}`);
  if (!result.more) {
    console.log("cleanup complete");
    process.exit(0);
  }
}
fail("cleanup still had work after 100 rounds; run it again");
