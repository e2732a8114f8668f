/** Who is calling: the verified facts from a Firebase ID token that the rest of the code may use. */
export interface AuthenticatedUser {
  readonly uid: string;
  /** Custom claim `admin: true`. */
  readonly admin: boolean;
  /** Custom claim `tier`, when set; otherwise the store's user document decides (free by default). */
  readonly tier: "free" | "paid" | undefined;
  /** Custom claim `budget_usd` (set by `npm run set-claims -- --budget-usd`): this user's monthly budget. */
  readonly budgetUsd?: number;
}

/** The auth port. Throws an `unauthenticated` AppError for anything but a valid, unrevoked token. */
export interface IdTokenVerifier {
  verify(idToken: string): Promise<AuthenticatedUser>;
  /** Forgets what it remembers of a user (an account just deleted or revoked), so the next token is checked afresh. */
  forget(uid: string): void;
}

/** The Auth operations an account deletion needs. */
export interface AccountDirectory {
  /** Makes every refresh token of the user invalid: no new ID tokens, and old ones fail the revocation check. */
  revokeSessions(uid: string): Promise<void>;
  /** Deletes the user; silent when already gone. */
  deleteUser(uid: string): Promise<void>;
}
