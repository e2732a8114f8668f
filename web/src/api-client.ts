import type { ErrorEnvelope } from "../../functions/src/contract/error-codes.ts";

/**
 * A refused or failed API call: the contract's error code (docs/api.md), or `network` when the server could not
 * be reached at all. `retryAfterSeconds` comes from the `Retry-After` header of a 429 or 503.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly retryAfterSeconds: number | undefined;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    status: number,
    code: string,
    message: string,
    retryAfterSeconds?: number,
    details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
    this.details = details;
  }
}

export interface StreamRequest {
  readonly method: "GET" | "POST";
  readonly body?: unknown;
  /** Resume after this many characters (sent as `Last-Event-ID`). */
  readonly lastEventId?: number;
  readonly signal?: AbortSignal;
}

/** Calls the API at `backendUrl` with the signed-in user's Firebase ID token. */
export class ApiClient {
  readonly #backendUrl: string;
  readonly #idToken: () => Promise<string>;

  constructor(backendUrl: string, idToken: () => Promise<string>) {
    this.#backendUrl = backendUrl.replace(/\/+$/, "");
    this.#idToken = idToken;
  }

  async get<T>(path: string, signal?: AbortSignal): Promise<T> {
    const response = await this.#send(path, { method: "GET", ...(signal === undefined ? {} : { signal }) });
    return (await response.json()) as T;
  }

  async post<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
    const response = await this.#send(path, { method: "POST", body, ...(signal === undefined ? {} : { signal }) });
    return (await response.json()) as T;
  }

  /** Opens an SSE response; refusals before the stream starts throw an `ApiError` like any other call. */
  async stream(path: string, request: StreamRequest): Promise<ReadableStream<Uint8Array>> {
    const response = await this.#send(path, request);
    if (response.body === null) throw new ApiError(0, "network", "The stream had no body.");
    return response.body;
  }

  async #send(path: string, request: StreamRequest): Promise<Response> {
    const headers: Record<string, string> = { Authorization: `Bearer ${await this.#idToken()}` };
    if (request.body !== undefined) headers["Content-Type"] = "application/json";
    if (request.lastEventId !== undefined) headers["Last-Event-ID"] = String(request.lastEventId);
    let response: Response;
    try {
      response = await fetch(`${this.#backendUrl}${path}`, {
        method: request.method,
        headers,
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
        ...(request.signal === undefined ? {} : { signal: request.signal }),
      });
    } catch (error) {
      if (request.signal?.aborted === true) throw error;
      throw new ApiError(0, "network", error instanceof Error ? error.message : String(error));
    }
    if (response.ok) return response;
    throw await errorFrom(response);
  }
}

async function errorFrom(response: Response): Promise<ApiError> {
  const retryAfter = Number(response.headers.get("Retry-After") ?? Number.NaN);
  const retryAfterSeconds = Number.isFinite(retryAfter) ? retryAfter : undefined;
  try {
    const envelope = (await response.json()) as ErrorEnvelope;
    const { code, message, details } = envelope.error;
    return new ApiError(response.status, code, message, retryAfterSeconds, details);
  } catch {
    // Not the API's envelope (a proxy, or the Functions runtime itself): judge by the status alone.
    return new ApiError(response.status, `http_${String(response.status)}`, response.statusText, retryAfterSeconds);
  }
}
