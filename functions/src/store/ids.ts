import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** A new opaque id: `<prefix>-` and 20 random base62 characters (about 119 bits), like Firestore's auto ids. */
export function newId(prefix: string): string {
  const bytes = randomBytes(20);
  let id = "";
  for (const byte of bytes) id += ALPHABET.charAt(byte % ALPHABET.length);
  return `${prefix}-${id}`;
}

/**
 * Ids clients send back to us (chat, message, job, request ids): a conservative, path-safe alphabet, without the
 * ids Firestore refuses (`.`, `..` and the reserved `__x__`), so a bad id is a 400 before any read or write.
 */
export const CLIENT_ID_PATTERN = /^(?!\.\.?$)(?!__.*__$)[A-Za-z0-9._:-]{1,128}$/;
