import { randomBytes } from "node:crypto";
import { link, mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * A secret kept in the embedded data folder, made on first use: every process of the local stack (the API and
 * the workers) reads the same one, and nothing secret is ever in the repository. It is written under a temporary
 * name and linked into place, so a process racing another reads either nothing or the whole secret.
 */
export async function localSecret(directory: string, name: string): Promise<string> {
  const path = join(directory, name);
  try {
    return checked(path, await readFile(path, "utf8"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  await mkdir(directory, { recursive: true });
  const draft = `${path}.${process.pid}.${randomBytes(4).toString("hex")}`;
  await writeFile(draft, randomBytes(32).toString("base64url"), { mode: 0o600 });
  try {
    await link(draft, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    await unlink(draft);
  }
  return checked(path, await readFile(path, "utf8"));
}

/** A damaged file (emptied, cut short) must not become a weak secret. */
function checked(path: string, content: string): string {
  const secret = content.trim();
  if (secret.length < 32) throw new Error(`${path} does not hold a whole secret: delete it and start again.`);
  return secret;
}
