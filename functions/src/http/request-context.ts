import type { IncomingMessage, ServerResponse } from "node:http";
import type { Caller } from "../auth/caller.ts";
import { AppError } from "../errors/app-error.ts";

/**
 * A request as the Functions Framework hands it over (Express has already read the body into `rawBody` and
 * parsed JSON into `body`) or as plain `node:http` does (nothing read yet). The code handles both.
 */
export interface IncomingRequest extends IncomingMessage {
  body?: unknown;
  rawBody?: Buffer;
}

export type RequestHandler = (request: IncomingRequest, response: ServerResponse) => Promise<void>;

/** Fields the access log line carries for this request, beyond the ones every line has. */
interface AccessLogFields {
  chat_id?: string;
  model?: string;
  generation_type?: "text" | "image" | "video";
  job_id?: string;
}

const JSON_CONTENT_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;.*)?$/i;

export class RequestContext {
  readonly request: IncomingRequest;
  readonly response: ServerResponse;
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly startedAt: number;
  readonly logFields: AccessLogFields = {};
  params: Readonly<Record<string, string>> = {};
  user: Caller | undefined;
  readonly #maxBodyBytes: number;

  constructor(request: IncomingRequest, response: ServerResponse, requestId: string, maxBodyBytes: number) {
    this.request = request;
    this.response = response;
    this.requestId = requestId;
    this.method = (request.method ?? "GET").toUpperCase();
    const url = new URL(request.url ?? "/", "http://localhost");
    this.path = url.pathname.replace(/\/+$/, "") || "/";
    this.query = url.searchParams;
    this.startedAt = performance.now();
    this.#maxBodyBytes = maxBodyBytes;
  }

  /** The caller, for routes that require one (the router guarantees it is set there). */
  get caller(): Caller {
    if (this.user === undefined) throw new AppError("unauthenticated", "Sign in first.");
    return this.user;
  }

  header(name: string): string | undefined {
    const value = this.request.headers[name.toLowerCase()];
    return Array.isArray(value) ? value[0] : value;
  }

  /**
   * The JSON body, or `undefined` when there is none. 413 over the size limit (checked before reading when a
   * length is declared), 415 for a body that is not JSON, 400 for malformed JSON.
   */
  async readJson(): Promise<unknown> {
    const declaredLength = Number(this.header("content-length") ?? "0");
    if (declaredLength > this.#maxBodyBytes) throw tooLarge(this.#maxBodyBytes);
    const bytes = await this.#readBytes();
    if (bytes.length === 0) return undefined;
    if (bytes.length > this.#maxBodyBytes) throw tooLarge(this.#maxBodyBytes);
    const contentType = this.header("content-type") ?? "";
    if (!JSON_CONTENT_TYPE.test(contentType)) {
      throw new AppError("unsupported_media_type", "Send the body as JSON with Content-Type: application/json.");
    }
    // The Functions Framework has parsed JSON already (and answered malformed JSON itself): use its result.
    const parsedByFramework = this.request.body;
    if (Buffer.isBuffer(this.request.rawBody) && typeof parsedByFramework === "object" && parsedByFramework !== null) {
      if (!Buffer.isBuffer(parsedByFramework)) return parsedByFramework;
    }
    try {
      return JSON.parse(bytes.toString("utf8")) as unknown;
    } catch {
      throw new AppError("invalid_argument", "The body is not valid JSON.");
    }
  }

  /** Sends a JSON response (unless the client has gone). */
  sendJson(status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
    if (this.response.headersSent || this.response.destroyed) return;
    const payload = JSON.stringify(body);
    this.response.writeHead(status, {
      ...headers,
      "Content-Type": "application/json; charset=utf-8",
      "Content-Length": Buffer.byteLength(payload),
    });
    this.response.end(payload);
  }

  async #readBytes(): Promise<Buffer> {
    if (Buffer.isBuffer(this.request.rawBody)) return this.request.rawBody;
    if (this.request.readableEnded) return Buffer.alloc(0);
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of this.request) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
      total += buffer.length;
      if (total > this.#maxBodyBytes) {
        // Stop reading; the response closes the connection rather than draining an oversized upload.
        this.response.setHeader("Connection", "close");
        throw tooLarge(this.#maxBodyBytes);
      }
      chunks.push(buffer);
    }
    return Buffer.concat(chunks);
  }
}

function tooLarge(limit: number): AppError {
  return new AppError("payload_too_large", `The body is larger than the ${limit}-byte limit.`, {
    details: { limit_bytes: limit },
  });
}

export type { ServerResponse, IncomingMessage };
