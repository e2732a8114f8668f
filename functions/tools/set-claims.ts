/**
 * `npm run set-claims -- --email someone@example.com --admin` (or `--uid <uid>`, `--tier paid|free`,
 * `--no-admin`, `--budget-usd <dollars>|none`): sets a user's custom claims with firebase-admin. This is how an
 * operator makes the first admin (admin routes need `admin: true`), moves a user between tiers, or gives one
 * user a monthly budget of their own (`budget_usd`, which wins over the tier's and the admin API's). Against production it uses Application
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
    "usage: npm run set-claims -- (--email <email> | --uid <uid>) [--admin | --no-admin] [--tier paid|free] [--budget-usd <dollars>|none]",
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
const budget = argument("--budget-usd");
if (budget === "none") delete claims.budget_usd;
else if (budget !== undefined) {
  const dollars = Number(budget);
  if (budget.trim() === "" || !Number.isFinite(dollars) || dollars < 0 || dollars > 100_000) {
    console.error("--budget-usd must be an amount from 0 to 100000 (US dollars), or none");
    process.exit(2);
  }
  claims.budget_usd = dollars;
}
await auth.setCustomUserClaims(user.uid, claims);
console.log(`claims for ${user.uid}: ${JSON.stringify(claims)} (the user's next ID token carries them)`);
