/**
 * Ids clients send back to us (chat, message, job, request and upload ids): a conservative, path-safe alphabet,
 * without the ids Firestore refuses (`.`, `..` and the reserved `__x__`), so a bad id is a 400 before any read or
 * write.
 */
export const CLIENT_ID_PATTERN = /^(?!\.\.?$)(?!__.*__$)[A-Za-z0-9._:-]{1,128}$/;

/** The rule behind `CLIENT_ID_PATTERN`, in words, for validation messages. */
export const CLIENT_ID_RULE = "1-128 characters of A-Z, a-z, 0-9, '.', '_', ':' or '-'";
