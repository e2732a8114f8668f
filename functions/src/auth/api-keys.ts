import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { ApiKey, ApiKeyScope } from "../contract/resources.ts";
import type { DocumentDatabase } from "../database/document-database.ts";
import { AppError, notFound } from "../errors/app-error.ts";
import { describeError, type Logger } from "../logging/logger.ts";
import { newId } from "../store/ids.ts";
import { paths } from "../store/paths.ts";
import { queries } from "../store/queries.ts";
import type { ApiKeyRecord } from "../store/records.ts";

/** `atk_<key id>_<secret>`: the id finds the record, the secret (256 random bits) proves possession. */
const KEY_FORMAT = /^atk_(key-[0-9A-Za-z]{20})_([A-Za-z0-9_-]{43})$/;

/**
 * How long an instance trusts what it read of a key. A revocation reaches every instance within this, so a
 * revoked key is refused everywhere within a second; a busy service still costs one read per key per window.
 */
const KEY_CACHE_MS = 500;
/** `last_used_at` is written at most this often per key: a sign of use for rotation, not a request log. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** A key acting as its own principal: its data lives under this uid, apart from every user's. */
interface ServicePrincipal {
  readonly keyId: string;
  readonly uid: string;
  readonly scopes: ReadonlySet<ApiKeyScope>;
}

interface ApiKeysOptions {
  readonly database: DocumentDatabase;
  /** The server's secret for the keyed hash (HMAC-SHA256) under which key secrets are stored. */
  readonly hashSecret: string;
  readonly logger: Logger;
  readonly now: () => number;
}

/**
 * Service API keys (`X-API-Key`): minted by an admin and shown once, listed without secrets, revoked. Only an
 * HMAC of each secret is stored, so a leaked database does not leak usable keys; checking a key costs the same
 * whether its id is unknown, its secret wrong or the key revoked.
 */
export class ApiKeys {
  readonly #options: ApiKeysOptions;
  readonly #cache = new Map<string, { record: ApiKeyRecord | null; readAt: number }>();
  /** A hash of the right length to compare against when there is no record, so a miss takes as long as a hit. */
  readonly #absentHash: Buffer;

  constructor(options: ApiKeysOptions) {
    this.#options = options;
    this.#absentHash = this.#hash(randomBytes(32).toString("base64url"));
  }

  /** The service principal a presented key stands for; `unauthenticated` for anything else. */
  async verify(presented: string): Promise<ServicePrincipal> {
    const match = KEY_FORMAT.exec(presented);
    const presentedHash = this.#hash(match?.[2] ?? presented);
    const record = match?.[1] === undefined ? null : await this.#read(match[1]);
    const expected = record === null ? this.#absentHash : Buffer.from(record.secret_hash, "hex");
    const same = expected.length === presentedHash.length && timingSafeEqual(expected, presentedHash);
    if (!same || record === null || record.revoked_at !== undefined) {
      throw new AppError("unauthenticated", "The API key is invalid or has been revoked.");
    }
    this.#noteUse(record);
    return { keyId: record.key_id, uid: principalUid(record.key_id), scopes: new Set(record.scopes) };
  }

  /** Mints a key; the returned `apiKey` is the only copy of its secret. */
  async mint(
    name: string,
    scopes: readonly ApiKeyScope[],
    createdBy: string,
  ): Promise<{ key: ApiKey; apiKey: string }> {
    const keyId = newId("key");
    const secret = randomBytes(32).toString("base64url");
    const apiKey = `atk_${keyId}_${secret}`;
    const record: ApiKeyRecord = {
      key_id: keyId,
      name,
      scopes: [...scopes],
      secret_hash: this.#hash(secret).toString("hex"),
      prefix: apiKey.slice(0, 12),
      created_by: createdBy,
      created_at: new Date(this.#options.now()),
    };
    await this.#options.database.create(paths.apiKey(keyId), record);
    return { key: toApiKey(record), apiKey };
  }

  /** Every key, newest first, revoked ones included (marked), never a secret. */
  async list(): Promise<ApiKey[]> {
    const found = await this.#options.database.query<ApiKeyRecord>(queries.apiKeysNewestFirst(1_000));
    return found.map((document) => toApiKey(document.data));
  }

  /** Revokes a key (again: nothing changes); `not_found` for an unknown id. */
  async revoke(keyId: string): Promise<ApiKey & { readonly revoked_at: string }> {
    const { database, now } = this.#options;
    const path = paths.apiKey(keyId);
    const revoked = await database.transaction(async (transaction) => {
      const found = await transaction.get<ApiKeyRecord>(path);
      if (found === null) throw notFound("API key");
      if (found.data.revoked_at !== undefined) return found.data;
      const record = { ...found.data, revoked_at: new Date(now()) };
      transaction.update(path, { revoked_at: record.revoked_at });
      return record;
    });
    this.#cache.delete(keyId);
    return { ...toApiKey(revoked), revoked_at: (revoked.revoked_at ?? new Date(now())).toISOString() };
  }

  #hash(secret: string): Buffer {
    return createHmac("sha256", this.#options.hashSecret).update(secret).digest();
  }

  async #read(keyId: string): Promise<ApiKeyRecord | null> {
    const now = this.#options.now();
    const cached = this.#cache.get(keyId);
    if (cached !== undefined && now - cached.readAt < KEY_CACHE_MS) return cached.record;
    const found = await this.#options.database.get<ApiKeyRecord>(paths.apiKey(keyId));
    // Forget the oldest entry rather than all of them: a flood of made-up ids must not evict the real keys.
    if (this.#cache.size >= 10_000) this.#cache.delete(this.#cache.keys().next().value ?? "");
    this.#cache.delete(keyId);
    this.#cache.set(keyId, { record: found?.data ?? null, readAt: now });
    return found?.data ?? null;
  }

  #noteUse(record: ApiKeyRecord): void {
    const { database, logger, now } = this.#options;
    const at = now();
    if (record.last_used_at !== undefined && at - record.last_used_at.getTime() < LAST_USED_RESOLUTION_MS) return;
    const lastUsed = new Date(at);
    // Keeps the time the record was read: noting a use must not stretch how long a revocation can go unseen.
    const readAt = this.#cache.get(record.key_id)?.readAt ?? at;
    this.#cache.set(record.key_id, { record: { ...record, last_used_at: lastUsed }, readAt });
    database.update(paths.apiKey(record.key_id), { last_used_at: lastUsed }).catch((error: unknown) => {
      logger.warn("api key last use not recorded", { key_id: record.key_id, ...describeError(error) });
    });
  }
}

/** The uid under which a key's chats and jobs are stored: apart from every Firebase user's. */
function principalUid(keyId: string): string {
  return `service@${keyId}`;
}

function toApiKey(record: ApiKeyRecord): ApiKey {
  return {
    key_id: record.key_id,
    name: record.name,
    scopes: record.scopes,
    prefix: record.prefix,
    created_at: record.created_at.toISOString(),
    ...(record.last_used_at === undefined ? {} : { last_used_at: record.last_used_at.toISOString() }),
    ...(record.revoked_at === undefined ? {} : { revoked_at: record.revoked_at.toISOString() }),
  };
}
