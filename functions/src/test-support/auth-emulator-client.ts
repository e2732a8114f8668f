/**
 * A small client for the Firebase Auth emulator's REST API (Identity Toolkit), used by the token and smoke
 * scripts and by the tests. It only ever talks to an emulator: the owner credential it sends for admin calls
 * is the emulator's, and means nothing to real Firebase Auth.
 */

interface EmulatorUser {
  readonly uid: string;
  readonly idToken: string;
}

export class AuthEmulatorClient {
  readonly host: string;
  readonly projectId: string;

  /** `host` as in FIREBASE_AUTH_EMULATOR_HOST: `127.0.0.1:9099`. */
  constructor(host: string, projectId: string) {
    this.host = host;
    this.projectId = projectId;
  }

  async isReachable(): Promise<boolean> {
    try {
      return (await fetch(`http://${this.host}/`, { signal: AbortSignal.timeout(1_000) })).ok;
    } catch {
      return false;
    }
  }

  signUp(email: string, password: string): Promise<EmulatorUser> {
    return this.#account("signUp", { email, password, returnSecureToken: true });
  }

  signIn(email: string, password: string): Promise<EmulatorUser> {
    return this.#account("signInWithPassword", { email, password, returnSecureToken: true });
  }

  /** Signs in, creating the account first if the emulator has never seen it. */
  async signInOrSignUp(email: string, password: string): Promise<EmulatorUser> {
    try {
      return await this.signIn(email, password);
    } catch (error) {
      if (error instanceof Error && /EMAIL_NOT_FOUND|USER_NOT_FOUND/.test(error.message)) {
        return this.signUp(email, password);
      }
      throw error;
    }
  }

  /** Replaces the user's custom claims (e.g. `{ admin: true }`); new ID tokens carry them. */
  async setClaims(uid: string, claims: Record<string, unknown>): Promise<void> {
    await this.#call(
      "update",
      { localId: uid, customAttributes: JSON.stringify(claims), targetProjectId: this.projectId },
      true,
    );
  }

  /** Revokes every token issued to the user until now, as `revokeRefreshTokens` does. */
  async revokeTokens(uid: string): Promise<void> {
    await this.#call(
      "update",
      { localId: uid, validSince: String(Math.floor(Date.now() / 1000)), targetProjectId: this.projectId },
      true,
    );
  }

  async #account(method: string, body: unknown): Promise<EmulatorUser> {
    const result = await this.#call<{ localId: string; idToken: string }>(method, body);
    return { uid: result.localId, idToken: result.idToken };
  }

  async #call<T>(method: string, body: unknown, asAdmin = false): Promise<T> {
    const response = await fetch(
      `http://${this.host}/identitytoolkit.googleapis.com/v1/accounts:${method}?key=emulator`,
      {
        method: "POST",
        headers: { "Content-Type": "application/json", ...(asAdmin ? { Authorization: "Bearer owner" } : {}) },
        body: JSON.stringify(body),
      },
    );
    const json = (await response.json()) as T & { error?: { message?: string } };
    if (!response.ok)
      throw new Error(`Auth emulator ${method} failed: ${json.error?.message ?? String(response.status)}`);
    return json;
  }
}
