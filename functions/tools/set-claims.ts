/**
 * `npm run set-claims -- --email someone@example.com --admin` (or `--uid <uid>`, `--tier paid|free`,
 * `--no-admin`): sets a user's custom claims with firebase-admin. This is how an operator makes the first admin
 * (admin routes need `admin: true`) or moves a user between tiers. Against production it uses Application
 * Default Credentials (`gcloud auth application-default login`, or GOOGLE_APPLICATION_CREDENTIALS) and
 * FIREBASE_PROJECT_ID; with FIREBASE_AUTH_EMULATOR_HOST set it talks to the Auth emulator instead. The user signs
 * in again (or refreshes their token) to pick up the change.
 */
import { initializeApp } from "firebase-admin/app";
import { getAuth } from "firebase-admin/auth";

const argument = (name: string) => {
  const index = process.argv.indexOf(name);
  return index === -1 ? undefined : process.argv[index + 1];
};
const projectId = process.env.FIREBASE_PROJECT_ID ?? process.env.GCLOUD_PROJECT;
if (projectId === undefined) {
  console.error("Set FIREBASE_PROJECT_ID to the project (demo-atelier for the local stack).");
  process.exit(2);
}
const auth = getAuth(initializeApp({ projectId }));
const email = argument("--email");
const uid = argument("--uid");
if ((email === undefined) === (uid === undefined)) {
  console.error(
    "usage: npm run set-claims -- (--email <email> | --uid <uid>) [--admin | --no-admin] [--tier paid|free]",
  );
  process.exit(2);
}
const user = email === undefined ? await auth.getUser(uid ?? "") : await auth.getUserByEmail(email);
const claims: Record<string, unknown> = { ...user.customClaims };
if (process.argv.includes("--admin")) claims.admin = true;
if (process.argv.includes("--no-admin")) delete claims.admin;
const tier = argument("--tier");
if (tier !== undefined) {
  if (tier !== "paid" && tier !== "free") {
    console.error("--tier must be paid or free");
    process.exit(2);
  }
  claims.tier = tier;
}
await auth.setCustomUserClaims(user.uid, claims);
console.log(`claims for ${user.uid}: ${JSON.stringify(claims)} (the user's next ID token carries them)`);
