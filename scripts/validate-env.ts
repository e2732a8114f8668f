/**
 * `npm run validate-env [-- --target local|production]`: checks the environment against
 * the one settings schema and lists what is missing or invalid, by name only, never values. Exits 1 when the
 * target cannot run.
 *
 * - `production` (default): as Cloud Functions would load it. Provider keys are required; the project and
 *   bucket must be known (Cloud Functions supplies FIREBASE_CONFIG; elsewhere set FIREBASE_PROJECT_ID and
 *   FIREBASE_STORAGE_BUCKET).
 * - `local`: as `npm start` loads it; reports which providers run live and which simulated.
 *
 * Model ids are checked against the model catalogue as of today: an unknown, wrong-kind or retired one fails
 * with the reason (`problems`); a deprecated one still answering passes with a warning naming its shutdown date
 * and replacement.
 */
import { ConfigurationError, loadRuntimeConfig } from "../functions/src/config/runtime-config.ts";

const targetIndex = process.argv.indexOf("--target");
const target = targetIndex === -1 ? "production" : process.argv[targetIndex + 1];
if (target !== "production" && target !== "local") {
  console.error("usage: npm run validate-env -- --target local|production");
  process.exit(2);
}

const environment: NodeJS.ProcessEnv = { ...process.env };
const missing = new Set<string>();
if (target === "production") {
  environment.K_SERVICE ??= "validate-env";
  delete environment.FUNCTIONS_EMULATOR;
  if ((environment.FIREBASE_CONFIG ?? "") === "") {
    for (const name of ["FIREBASE_PROJECT_ID", "FIREBASE_STORAGE_BUCKET"]) {
      if ((environment[name] ?? "").trim() === "") missing.add(name);
    }
  }
} else {
  environment.FUNCTIONS_EMULATOR = "true";
}

let invalid: readonly string[] = [];
let problems: Readonly<Record<string, string>> = {};
let providers: Record<string, string> = {};
let modelWarnings: readonly unknown[] = [];
let groundingEnabled = true;
try {
  const config = loadRuntimeConfig(environment);
  providers = config.providers;
  modelWarnings = config.modelWarnings;
  groundingEnabled = config.settings.TAVILY_ENABLED;
} catch (error) {
  if (!(error instanceof ConfigurationError)) throw error;
  for (const name of error.missing) missing.add(name);
  invalid = error.invalid;
  problems = error.problems;
}

const report = {
  target,
  missing: [...missing].sort(),
  invalid,
  ...(Object.keys(problems).length === 0 ? {} : { problems }),
  providers,
  ...(modelWarnings.length === 0 ? {} : { model_warnings: modelWarnings }),
};
if (missing.size > 0 || invalid.length > 0) {
  console.error(JSON.stringify({ ok: false, ...report }, null, 2));
  console.error(`FAIL: the ${target} environment is not complete (see "missing" and "invalid" above).`);
  process.exit(1);
}
console.log(JSON.stringify({ ok: true, ...report }, null, 2));
if (modelWarnings.length > 0) {
  console.log(
    "Note: some configured models are deprecated (see model_warnings): move them before their shutdown date.",
  );
}
if (providers.tavily !== "live") {
  console.log(
    !groundingEnabled
      ? "Note: grounding is switched off (TAVILY_ENABLED=false); grounded chat requests answer 503."
      : "Note: TAVILY_API_KEY is not set; grounded chat requests will be refused in production, and the " +
          "TAVILY_API_KEY secret must exist before deploying (or set TAVILY_ENABLED=false).",
  );
}
if (target === "production") {
  // Permissions cannot be read offline: name them, and the commands that show whether they are granted.
  console.log(
    [
      "Permissions the functions' runtime service account needs (check with the commands below):",
      "  roles/datastore.user, roles/storage.objectAdmin and storage.buckets.get on the bucket,",
      "  roles/cloudtasks.enqueuer, roles/iam.serviceAccountUser on itself (actAs), roles/run.invoker on",
      "  imageWorker and videoWorker, roles/secretmanager.secretAccessor, roles/firebaseauth.admin; and",
      "  roles/firebaserules.firestoreServiceAgent for the Storage service agent (storage.rules read Firestore).",
      '  gcloud projects get-iam-policy "$PROJECT" --flatten=bindings[].members \\',
      '    --filter="bindings.members:serviceAccount:$ACCOUNT" --format="value(bindings.role)"',
      '  gcloud run services get-iam-policy imageworker --region "$REGION"   # and videoworker: roles/run.invoker',
    ].join("\n"),
  );
}
console.log(`OK: every required setting for ${target} is present.`);
