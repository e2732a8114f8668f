import { createHmac, generateKeyPairSync, sign } from "node:crypto";
import { TEST_PROJECT_ID } from "./auth-emulator.ts";

/**
 * ID tokens made by hand, for proving that the API refuses them: expired, signed by a stranger, or for a user
 * the Auth backend has never heard of.
 */

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

export function claimsFor(uid: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: `https://securetoken.google.com/${TEST_PROJECT_ID}`,
    aud: TEST_PROJECT_ID,
    auth_time: now - 10,
    user_id: uid,
    sub: uid,
    iat: now - 10,
    exp: now + 3600,
    firebase: { identities: {}, sign_in_provider: "password" },
    ...overrides,
  };
}

/** An emulator-style (unsigned) token with the given claims. */
export function unsignedToken(claims: Record<string, unknown>): string {
  return `${encode({ alg: "none", typ: "JWT" })}.${encode(claims)}.`;
}

/** A token signed with a key Google never issued, RS256 with a made-up key id. */
export function forgedRs256Token(claims: Record<string, unknown>): string {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const signingInput = `${encode({ alg: "RS256", typ: "JWT", kid: "forged-key" })}.${encode(claims)}`;
  return `${signingInput}.${sign("sha256", Buffer.from(signingInput), privateKey).toString("base64url")}`;
}

/** A token signed with a shared secret (HS256), which Firebase never uses. */
export function forgedHs256Token(claims: Record<string, unknown>): string {
  const signingInput = `${encode({ alg: "HS256", typ: "JWT" })}.${encode(claims)}`;
  return `${signingInput}.${createHmac("sha256", "guess").update(signingInput).digest("base64url")}`;
}
