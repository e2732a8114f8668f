/**
 * `npm run -s token [-- --admin] [-- --email someone@example.com]`: prints an ID token for a test user of the
 * local Auth emulator (signing the user up on first use). With --admin the user gets the `admin: true` claim.
 * Only talks to the emulator: FIREBASE_AUTH_EMULATOR_HOST, or firebase.json's auth port.
 */
import { AuthEmulatorClient } from "../functions/src/test-support/auth-emulator-client.ts";
import { configuredPorts, DEFAULT_PROJECT_ID } from "./lib/local-stack.ts";

const argument = (name: string) => {
  const index = process.argv.indexOf(name);
  return index === -1 ? undefined : process.argv[index + 1];
};
const admin = process.argv.includes("--admin");
const email = argument("--email") ?? (admin ? "admin@atelier.test" : "dev@atelier.test");
const host = process.env.FIREBASE_AUTH_EMULATOR_HOST ?? `127.0.0.1:${String(configuredPorts().auth)}`;
const client = new AuthEmulatorClient(host, process.env.FIREBASE_PROJECT_ID ?? DEFAULT_PROJECT_ID);

if (!(await client.isReachable())) {
  console.error(`No Auth emulator answers at ${host}. Start the stack first: npm start`);
  process.exit(1);
}
const password = "atelier-local-password";
let user = await client.signInOrSignUp(email, password);
if (admin) {
  await client.setClaims(user.uid, { admin: true });
  user = await client.signIn(email, password);
}
process.stdout.write(`${user.idToken}\n`);
