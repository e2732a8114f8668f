import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuthEmulatorClient } from "./auth-emulator-client.ts";
import { spawnEmulators, waitUntil, type EmulatorProcess } from "./firebase-emulators.ts";
import { freePort } from "./free-port.ts";

/**
 * The real Firebase Auth emulator (firebase-tools), started once per test run on free ports. Tests sign users
 * up through its REST API and get genuine emulator ID tokens; firebase-admin verifies them because
 * `FIREBASE_AUTH_EMULATOR_HOST` points at it.
 */

export const TEST_PROJECT_ID = "demo-atelier-test";

export interface TestUser {
  readonly uid: string;
  readonly email: string;
  readonly password: string;
  readonly idToken: string;
}

export class AuthEmulator {
  readonly host: string;
  readonly client: AuthEmulatorClient;
  readonly #emulators: EmulatorProcess;
  readonly #directory: string;

  private constructor(host: string, emulators: EmulatorProcess, directory: string) {
    this.host = host;
    this.client = new AuthEmulatorClient(host, TEST_PROJECT_ID);
    this.#emulators = emulators;
    this.#directory = directory;
  }

  static async start(): Promise<AuthEmulator> {
    const [authPort, hubPort, loggingPort] = [await freePort(), await freePort(), await freePort()];
    const directory = mkdtempSync(join(tmpdir(), "atelier-auth-"));
    const configFile = join(directory, "firebase.json");
    writeFileSync(
      configFile,
      JSON.stringify({
        emulators: {
          singleProjectMode: true,
          auth: { host: "127.0.0.1", port: authPort },
          hub: { host: "127.0.0.1", port: hubPort },
          logging: { host: "127.0.0.1", port: loggingPort },
          ui: { enabled: false },
        },
      }),
    );
    const emulators = spawnEmulators({
      only: ["auth"],
      projectId: TEST_PROJECT_ID,
      configFile,
      environment: process.env,
      echo: false,
    });
    const emulator = new AuthEmulator(`127.0.0.1:${String(authPort)}`, emulators, directory);
    await waitUntil(() => emulator.client.isReachable(), emulators, "the Auth emulator to answer", 60_000);
    return emulator;
  }

  async stop(): Promise<void> {
    await this.#emulators.stop();
    rmSync(this.#directory, { recursive: true, force: true });
  }

  /** Creates a user with email and password and returns a fresh ID token for it. */
  async createUser(): Promise<TestUser> {
    const email = `user-${randomUUID()}@example.test`;
    const password = `pw-${randomUUID()}`;
    const { uid, idToken } = await this.client.signUp(email, password);
    return { uid, email, password, idToken };
  }

  /** Sets custom claims (e.g. `{ admin: true }`) and returns a new ID token that carries them. */
  async withClaims(user: TestUser, claims: Record<string, unknown>): Promise<TestUser> {
    await this.client.setClaims(user.uid, claims);
    return { ...user, idToken: await this.signIn(user) };
  }

  async signIn(user: Pick<TestUser, "email" | "password">): Promise<string> {
    return (await this.client.signIn(user.email, user.password)).idToken;
  }

  revokeTokens(uid: string): Promise<void> {
    return this.client.revokeTokens(uid);
  }
}

let shared: Promise<AuthEmulator> | undefined;

/** The run's Auth emulator, started on first use and stopped by the root hook. */
export function authEmulator(): Promise<AuthEmulator> {
  shared ??= AuthEmulator.start().then((emulator) => {
    process.env.FIREBASE_AUTH_EMULATOR_HOST = emulator.host;
    return emulator;
  });
  return shared;
}

export async function stopAuthEmulator(): Promise<void> {
  if (shared !== undefined) await (await shared).stop();
  shared = undefined;
}
