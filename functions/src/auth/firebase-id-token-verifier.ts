import { MAX_MONTHLY_BUDGET_USD } from "../contract/request-bodies.ts";
import type { Auth, DecodedIdToken } from "firebase-admin/auth";
import { AppError } from "../errors/app-error.ts";
import type { AccountDirectory, AuthenticatedUser, IdTokenVerifier } from "./id-token-verifier.ts";

/**
 * Verifies ID tokens with firebase-admin. Revocation (and disabled accounts, and tokens for users that do not
 * exist, which matters under the Auth emulator where signatures are not checked) is checked against the user
 * record, cached per user for `revocationCacheSeconds`: the same check `verifyIdToken(token, true)` makes,
 * without an Auth API round trip on every request.
 */
export class FirebaseIdTokenVerifier implements IdTokenVerifier {
  readonly #auth: Auth;
  readonly #checkRevoked: boolean;
  readonly #cacheMilliseconds: number;
  readonly #now: () => number;
  readonly #userStates = new Map<string, { disabled: boolean; validSince: number; fetchedAt: number }>();

  constructor(auth: Auth, options: { checkRevoked: boolean; revocationCacheSeconds: number; now?: () => number }) {
    this.#auth = auth;
    this.#checkRevoked = options.checkRevoked;
    this.#cacheMilliseconds = options.revocationCacheSeconds * 1000;
    this.#now = options.now ?? Date.now;
  }

  async verify(idToken: string): Promise<AuthenticatedUser> {
    let decoded: DecodedIdToken;
    try {
      decoded = await this.#auth.verifyIdToken(idToken, false);
    } catch (error) {
      throw new AppError("unauthenticated", "The ID token is invalid or expired.", { cause: error });
    }
    if (this.#checkRevoked) await this.#assertStillValid(decoded);
    const tier: unknown = decoded.tier;
    const budget: unknown = decoded.budget_usd;
    return {
      uid: decoded.uid,
      admin: decoded.admin === true,
      tier: tier === "paid" || tier === "free" ? tier : undefined,
      ...(typeof budget === "number" && budget >= 0 && budget <= MAX_MONTHLY_BUDGET_USD ? { budgetUsd: budget } : {}),
    };
  }

  forget(uid: string): void {
    this.#userStates.delete(uid);
  }

  async #assertStillValid(decoded: DecodedIdToken): Promise<void> {
    const now = this.#now();
    let state = this.#userStates.get(decoded.uid);
    if (state === undefined || now - state.fetchedAt >= this.#cacheMilliseconds) {
      try {
        const user = await this.#auth.getUser(decoded.uid);
        state = {
          disabled: user.disabled,
          validSince: user.tokensValidAfterTime === undefined ? 0 : Date.parse(user.tokensValidAfterTime),
          fetchedAt: now,
        };
      } catch (error) {
        throw new AppError("unauthenticated", "The ID token is invalid or expired.", { cause: error });
      }
      if (this.#userStates.size > 10_000) this.#userStates.clear();
      this.#userStates.set(decoded.uid, state);
    }
    if (state.disabled) throw new AppError("unauthenticated", "This account is disabled.");
    if (decoded.auth_time * 1000 < state.validSince) {
      throw new AppError("unauthenticated", "The ID token has been revoked. Sign in again.");
    }
  }
}

/** Account deletion's Auth operations, on firebase-admin. */
export class FirebaseAccountDirectory implements AccountDirectory {
  readonly #auth: Auth;

  constructor(auth: Auth) {
    this.#auth = auth;
  }

  async revokeSessions(uid: string): Promise<void> {
    try {
      await this.#auth.revokeRefreshTokens(uid);
    } catch (error) {
      if (!isUserNotFound(error)) throw error;
    }
  }

  async deleteUser(uid: string): Promise<void> {
    try {
      await this.#auth.deleteUser(uid);
    } catch (error) {
      if (!isUserNotFound(error)) throw error;
    }
  }
}

function isUserNotFound(error: unknown): boolean {
  return typeof error === "object" && error !== null && "code" in error && error.code === "auth/user-not-found";
}
