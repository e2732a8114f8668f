import type { ApiKeyScope } from "../contract/resources.ts";
import { AppError } from "../errors/app-error.ts";
import type { Logger } from "../logging/logger.ts";
import type { ApiKeys } from "./api-keys.ts";
import type { AppCheckVerifier } from "./app-check-verifier.ts";
import type { AuthenticatedUser, IdTokenVerifier } from "./id-token-verifier.ts";

/**
 * Who is calling, once authorized: a signed-in user (Firebase ID token) or a service (API key) acting as its own
 * principal. Services downstream see only the `AuthenticatedUser` facts (uid, admin, tier).
 */
export interface Caller extends AuthenticatedUser {
  readonly kind: "user" | "service";
  /** What the caller may do: a key's scopes; for a user, everything (admin work only with the `admin` claim). */
  readonly scopes: ReadonlySet<ApiKeyScope>;
  /** The API key a service called with. */
  readonly keyId?: string;
}

const USER_SCOPES: ReadonlySet<ApiKeyScope> = new Set(["chat", "jobs", "history:read"]);
const ADMIN_SCOPES: ReadonlySet<ApiKeyScope> = new Set([...USER_SCOPES, "admin"]);

/** What a request presents: its headers, and App Check as the transport knows it. */
interface Credentials {
  /** `Authorization` */
  readonly authorization: string | undefined;
  /** `X-API-Key` */
  readonly apiKey: string | undefined;
  /**
   * The `X-Firebase-AppCheck` token to verify (HTTP), or the verdict of a runtime that verified it already (the
   * callable's `request.app`).
   */
  readonly appCheck: { readonly token: string | undefined } | { readonly verified: boolean };
  /** Where the request went and its id, for the log line of a failed App Check. */
  readonly where: string;
  readonly requestId?: string;
}

/**
 * What a route or function requires: an API key `scope` (users may do everything but admin work, which needs the
 * `admin` claim), `any` authenticated caller, or `users` only (their own account: no key may act for it).
 */
export type Requirement = ApiKeyScope | "any" | "users";

export interface CallerAuthorizationOptions {
  readonly verifier: IdTokenVerifier;
  /** Absent where service API keys are not enabled: a presented key is then refused like an unknown one. */
  readonly apiKeys: ApiKeys | undefined;
  /** App Check on ID-token callers: `monitor` logs failures, `enforce` refuses them with 401. */
  readonly appCheck: { readonly mode: "monitor" | "enforce"; readonly verifier: AppCheckVerifier } | undefined;
  readonly logger: Logger;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * The one authorization of every entry point (the HTTP API and the streaming callable): a Firebase ID token
 * (revocation checked by the verifier) with App Check, or a service API key with its scopes. Throws
 * `unauthenticated` (401) for missing, malformed, expired, revoked or unknown credentials and
 * `permission_denied` (403) for a caller the requirement does not admit.
 */
export class CallerAuthorization {
  readonly #options: CallerAuthorizationOptions;

  constructor(options: CallerAuthorizationOptions) {
    this.#options = options;
  }

  async authorize(credentials: Credentials, requirement: Requirement): Promise<Caller> {
    const apiKey = credentials.apiKey?.trim() ?? "";
    const authorization = credentials.authorization?.trim() ?? "";
    if (apiKey !== "" && authorization !== "") {
      throw new AppError("unauthenticated", "Send either an ID token or an API key, not both.");
    }
    const caller = apiKey !== "" ? await this.#service(apiKey) : await this.#user(authorization, credentials);
    admit(caller, requirement);
    return caller;
  }

  async #service(apiKey: string): Promise<Caller> {
    const { apiKeys } = this.#options;
    if (apiKeys === undefined) throw new AppError("unauthenticated", "The API key is invalid or has been revoked.");
    const principal = await apiKeys.verify(apiKey);
    return {
      kind: "service",
      uid: principal.uid,
      keyId: principal.keyId,
      admin: principal.scopes.has("admin"),
      // Operators mint keys for their own services: they run on the paid tier's monthly allowance.
      tier: "paid",
      scopes: principal.scopes,
    };
  }

  async #user(authorization: string, credentials: Credentials): Promise<Caller> {
    const token = BEARER.exec(authorization)?.[1];
    if (token === undefined) {
      throw new AppError(
        "unauthenticated",
        "Send a Firebase ID token as 'Authorization: Bearer <token>', or a service API key as 'X-API-Key'.",
      );
    }
    const user = await this.#options.verifier.verify(token);
    await this.#checkApp(credentials);
    return { ...user, kind: "user", scopes: user.admin ? ADMIN_SCOPES : USER_SCOPES };
  }

  async #checkApp(credentials: Credentials): Promise<void> {
    const { appCheck, logger } = this.#options;
    if (appCheck === undefined) return;
    let problem: "missing" | "invalid" | undefined;
    if ("verified" in credentials.appCheck) {
      if (!credentials.appCheck.verified) problem = "invalid";
    } else if (credentials.appCheck.token === undefined || credentials.appCheck.token === "") {
      problem = "missing";
    } else {
      try {
        await appCheck.verifier.verify(credentials.appCheck.token);
      } catch {
        problem = "invalid";
      }
    }
    if (problem === undefined) return;
    logger.warn("app check failed", {
      ...(credentials.requestId === undefined ? {} : { request_id: credentials.requestId }),
      path: credentials.where,
      problem,
      mode: appCheck.mode,
    });
    if (appCheck.mode === "enforce") {
      throw new AppError("unauthenticated", "This app is not verified (App Check token missing or invalid).");
    }
  }
}

function admit(caller: Caller, requirement: Requirement): void {
  if (requirement === "any") return;
  if (requirement === "users") {
    if (caller.kind === "user") return;
    throw new AppError("permission_denied", "This route is for signed-in users; API keys cannot use it.");
  }
  if (caller.scopes.has(requirement)) return;
  throw new AppError(
    "permission_denied",
    caller.kind === "user" ? "This route needs an admin account." : `This API key lacks the '${requirement}' scope.`,
  );
}
