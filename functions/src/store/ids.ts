import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** A new opaque id: `<prefix>-` and 20 random base62 characters (about 119 bits), like Firestore's auto ids. */
export function newId(prefix: string): string {
  const bytes = randomBytes(20);
  let id = "";
  for (const byte of bytes) id += ALPHABET.charAt(byte % ALPHABET.length);
  return `${prefix}-${id}`;
}
