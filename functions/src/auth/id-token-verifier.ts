/** Who is calling: the verified facts from a Firebase ID token that the rest of the code may use. */
export interface AuthenticatedUser {
  readonly uid: string;
  /** Custom claim `admin: true`. */
  readonly admin: boolean;
  /** Custom claim `tier`, when set; otherwise the store's user document decides (free by default). */
  readonly tier: "free" | "paid" | undefined;
}

/** The auth port. Throws an `unauthenticated` AppError for anything but a valid, unrevoked token. */
export interface IdTokenVerifier {
  verify(idToken: string): Promise<AuthenticatedUser>;
}
