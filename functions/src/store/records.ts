import type { Citation } from "../contract/chat-events.ts";
import type { ChargeRecord, UsageRecord } from "./usage-ledger.ts";
import type {
  ApiKeyScope,
  Attachment,
  GroundingResult,
  JobKind,
  JobStatus,
  MessageRole,
  MessageStatus,
  MessageType,
  ProviderRun,
  ToolCallView,
} from "../contract/resources.ts";

/**
 * The documents Atelier stores, as they are stored (snake_case, like the API's JSON).
 * Dates are `Date`s (Firestore Timestamps).
 */

export interface ChatRecord {
  readonly chat_id: string;
  readonly title: string;
  /** Set while the chat is being deleted: it is hidden, and a repeated DELETE or the sweep finishes the job. */
  readonly deleting_since?: Date;
  readonly created_at: Date;
  readonly updated_at: Date;
  /** Messages ever added: the next message's `seq` is this plus one. */
  readonly message_count: number;
}

export interface StoredImage {
  readonly path: string;
  readonly url: string;
  readonly mime_type: string;
  readonly width?: number;
  readonly height?: number;
  /** A small WebP of it (`THUMBNAIL_MAX_PX`), beside it in the job's folder; absent on images made before. */
  readonly thumbnail_path?: string;
  readonly thumbnail_url?: string;
}

export interface MessageRecord {
  readonly message_id: string;
  readonly chat_id: string;
  /** Position in the chat (1, 2, ...): history is ordered by it. */
  readonly seq: number;
  readonly role: MessageRole;
  readonly type: MessageType;
  readonly content: string;
  readonly status: MessageStatus;
  readonly request_id: string;
  readonly created_at: Date;
  readonly updated_at: Date;
  /** The model that answered (the requested one until another answers in its place). */
  readonly model?: string;
  /** The model the request asked for, when a fallback model answered instead. */
  readonly fallback_from?: string;
  /** How the provider ran: a simulated answer is labelled as such. */
  readonly provider?: ProviderRun;
  /** The model's thought summary, kept apart from `content` (never cited, never counted in offsets). */
  readonly thinking?: string;
  /** The client asked for grounding (the search results land in `grounding` once the search succeeds). */
  readonly grounding_requested?: boolean;
  readonly grounding?: readonly GroundingResult[];
  readonly citations?: readonly Citation[];
  /** (+) Citation markers removed from the answer because they pointed at no source. */
  readonly citations_removed?: number;
  readonly attachments?: readonly Attachment[];
  readonly images?: readonly StoredImage[];
  readonly video_path?: string;
  readonly video_url?: string;
  /** A finished video's poster (a WebP of an early frame) and what ffprobe read of it. */
  readonly poster_path?: string;
  readonly poster_url?: string;
  readonly duration_seconds?: number;
  readonly width?: number;
  readonly height?: number;
  readonly job_id?: string;
  readonly progress?: number;
  readonly error?: string;
  readonly error_code?: string;
  /** The receipt (for a media message, copied from its job). */
  readonly usage?: UsageRecord;
  /** A chat answer's budget reservation, until the answer ends and settles it. */
  readonly charge?: ChargeRecord;
  readonly latency_ms?: number;
  readonly finish_reason?: string;
  /**
   * A streaming message's sign of life: set when it starts and renewed by its generator at most every
   * `ALIVE_INTERVAL_MS` (30 s), even while the model has not answered yet. Coarse on purpose: it is the field the
   * stale-stream sweep's index orders by, and a value written on every update would make that index a hotspot.
   * Absent on messages from before it existed (their `updated_at` stands in).
   */
  readonly alive_at?: Date;
  // Stream control, written by other connections and read by the streaming side on each coalesced write.
  readonly stop_requested_at?: Date;
  readonly attached_at?: Date;
  readonly media_expired?: boolean;
  /** A masked edit whose result was put back through the mask (copied from its job). */
  readonly mask_applied?: boolean;
  /** The tools the answer called, in order (what the client sees of them, and what the model must see again). */
  readonly tool_calls?: readonly ToolCallRecord[];
  /** While `awaiting_approval`: when the question lapses and the sweep ends the answer. */
  readonly approval_expires_at?: Date;
}

/**
 * A tool call of an answer as stored: the client's view, plus what rebuilding the model's history needs. The
 * model's arguments and what it was told are kept as JSON text: they are anyone's JSON (a downstream service's
 * answer may hold arrays of arrays, which Firestore refuses as values).
 */
export interface ToolCallRecord extends Omit<ToolCallView, "arguments"> {
  /** The arguments the model gave, as JSON. */
  readonly arguments_json: string;
  /** Which model step made it (0 first): the calls of one step went back to the model together. */
  readonly step: number;
  /** How much of the content had been written when the model made it: where replays show it. */
  readonly offset: number;
  /** The provider's id of the call, when it gave one. */
  readonly provider_call_id?: string;
  /** The provider's signature of the call (Gemini's `thoughtSignature`), sent back exactly. */
  readonly signature?: string;
  /** The user said yes to it (a call that needed approval). */
  readonly approved?: boolean;
  /** What the model was told the call came to, as JSON. */
  readonly response_json?: string;
}

export type RequestKind = "chat" | "image" | "image_edit" | "video";
export type RequestStatus = "streaming" | "awaiting_approval" | "queued" | "running" | "done" | "error" | "aborted";

/** `users/{uid}/requests/{request_id}`: what an idempotency key created. */
export interface RequestRecord {
  readonly request_id: string;
  readonly kind: RequestKind;
  /** SHA-256 of the normalised payload: a reuse with another payload is a conflict. */
  readonly payload_hash: string;
  readonly chat_id: string;
  /** Absent for a job a chat tool started: the ask was the chat's own message. */
  readonly user_message_id?: string;
  readonly message_id: string;
  readonly job_id?: string;
  readonly status: RequestStatus;
  readonly error?: string;
  readonly created_at: Date;
  readonly updated_at: Date;
  /** Firestore TTL field: the document may be deleted after this. */
  readonly expire_at: Date;
}

export interface JobRecord {
  readonly job_id: string;
  readonly kind: JobKind;
  readonly chat_id: string;
  readonly message_id: string;
  readonly request_id: string;
  readonly status: JobStatus;
  readonly prompt: string;
  /** The model asked for; once a fallback has started the work, the model doing it. */
  readonly model: string;
  /** The model asked for, when a fallback does the work. */
  readonly fallback_from?: string;
  readonly provider: ProviderRun;
  /** What the request asked (aspect ratio, count, duration, input paths, `fallback_models`). */
  readonly input: Readonly<Record<string, unknown>>;
  readonly attempts: number;
  readonly created_at: Date;
  readonly updated_at: Date;
  readonly lease_owner?: string;
  readonly lease_expires_at?: Date;
  /**
   * With no write by then, no delivery can still move the job (`jobs/delivery-budget.ts`): the sweep ends it.
   * Absent on jobs written before it existed (see `JobLedger.abandonAt`).
   */
  readonly abandon_at?: Date;
  /** The provider's handle on a video generation: Veo's operation name, Omni's interaction id. */
  readonly operation_name?: string;
  /** Omni: the interaction a later edit of this video can continue. */
  readonly interaction_id?: string;
  /** Which vendor's generation `operation_name` names, so polls reach it (absent: Veo, the only one before). */
  readonly video_provider?: "veo" | "omni";
  readonly next_poll_at?: Date;
  readonly poll_count?: number;
  readonly started_at?: Date;
  readonly completed_at?: Date;
  readonly progress?: number;
  readonly images?: readonly StoredImage[];
  readonly video_path?: string;
  readonly video_url?: string;
  /** A finished video's poster (a WebP of an early frame) and what ffprobe read of it. */
  readonly poster_path?: string;
  readonly poster_url?: string;
  readonly duration_seconds?: number;
  readonly width?: number;
  readonly height?: number;
  readonly error?: string;
  readonly error_code?: string;
  readonly media_deleted?: boolean;
  /** The receipt, once done (a failed job costs nothing). */
  readonly usage?: UsageRecord;
  /** The budget reservation, until the job ends and settles it. */
  readonly charge?: ChargeRecord;
  /** A masked edit whose result was put back through the mask: outside it the input's pixels are kept. */
  readonly mask_applied?: boolean;
  /**
   * Its chat (or account) is being deleted while a worker holds the job: that worker ends it at its next write,
   * storing nothing. Until then the job still counts as active work.
   */
  readonly cancel_requested_at?: Date;
}

export const TERMINAL_MESSAGE_STATUSES: ReadonlySet<MessageStatus> = new Set(["done", "error", "aborted"]);

/** Where a stream of a message ends: a final state, or a question to the user that a new request continues. */
export const STREAM_ENDING_STATUSES: ReadonlySet<MessageStatus> = new Set([
  ...TERMINAL_MESSAGE_STATUSES,
  "awaiting_approval",
]);

/** When a message last showed a sign of life: its generator's `alive_at`, else its last write. */
export function lastSignOfLife(message: Pick<MessageRecord, "alive_at" | "updated_at">): Date {
  return message.alive_at ?? message.updated_at;
}

/** A finished job (`done` or `error`) never changes again. */
export function isFinishedJob(job: Pick<JobRecord, "status">): boolean {
  return job.status === "done" || job.status === "error";
}

/** `deleted_accounts/{uid}`: an account deleted, kept two days (TTL on `expire_at`). */
export interface DeletedAccountRecord {
  readonly deleted_at: Date;
  /** When every ID token issued before the deletion has expired: purge once more then (cleared once done). */
  readonly purge_again_at?: Date;
  readonly expire_at: Date;
}

/** `api_keys/{key_id}`: a service API key. Only a keyed hash of its secret is kept; revoked keys stay listed. */
export interface ApiKeyRecord {
  readonly key_id: string;
  readonly name: string;
  readonly scopes: readonly ApiKeyScope[];
  /** HMAC-SHA256 of the key's secret under the server's hash secret, hex. */
  readonly secret_hash: string;
  readonly prefix: string;
  /** The admin (user id or key id) that minted it. */
  readonly created_by: string;
  readonly created_at: Date;
  readonly last_used_at?: Date;
  readonly revoked_at?: Date;
}
