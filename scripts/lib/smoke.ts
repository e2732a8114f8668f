import { randomUUID } from "node:crypto";
import { AuthEmulatorClient } from "../../functions/src/test-support/auth-emulator-client.ts";
import { configuredPorts, DEFAULT_PROJECT_ID } from "./local-stack.ts";
import type { Health } from "../../functions/src/contract/resources.ts";

/** What every smoke script needs: where the API is, and a token to call it with. */

export function fail(reason: string): never {
  console.log(`FAIL: ${reason}`);
  process.exit(1);
}

/** Why a network error says, e.g. "fetch failed: connect ECONNREFUSED 127.0.0.1:5001", without a stack. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message;
}

export async function smokeSetup(): Promise<{ backendUrl: string; token: string }> {
  // Anything thrown later (a connection refused or reset mid-stream) is a FAIL line too, never a stack trace.
  process.on("uncaughtException", (error) => fail(describe(error)));
  const backendUrl = (
    process.env.BACKEND_URL ??
    `http://127.0.0.1:${String(configuredPorts().functions)}/${DEFAULT_PROJECT_ID}/us-central1/api`
  ).replace(/\/+$/, "");
  let token = process.env.FIREBASE_ID_TOKEN ?? "";
  if (token === "") {
    const host = process.env.FIREBASE_AUTH_EMULATOR_HOST ?? `127.0.0.1:${String(configuredPorts().auth)}`;
    const emulator = new AuthEmulatorClient(host, process.env.FIREBASE_PROJECT_ID ?? DEFAULT_PROJECT_ID);
    if (!(await emulator.isReachable())) {
      fail("FIREBASE_ID_TOKEN is not set and no Auth emulator answers to sign up a test user");
    }
    token = (await emulator.signUp(`smoke-${randomUUID()}@atelier.test`, `pw-${randomUUID()}`)).idToken;
    console.log(`signed up a test user on the Auth emulator at ${host}`);
  }
  try {
    const health = await fetch(`${backendUrl}/health`, { signal: AbortSignal.timeout(15_000) });
    const body = (await health.json()) as Partial<Health>;
    console.log(`backend: ${backendUrl} (mode=${body.mode ?? "?"}, providers=${JSON.stringify(body.providers ?? {})})`);
  } catch (error) {
    fail(`GET ${backendUrl}/health failed: ${describe(error)}`);
  }
  return { backendUrl, token };
}

export async function getJson<T>(url: string, token: string): Promise<T> {
  const response = await fetch(url, {
    headers: { Authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(30_000),
  });
  if (!response.ok) fail(`GET ${new URL(url).pathname} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

export async function postJson<T>(url: string, token: string, body: unknown): Promise<T> {
  const response = await fetch(url, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  if (!response.ok) fail(`POST ${new URL(url).pathname} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}
