import type { Citation, ToolCallEvent, Usage } from "./chat-events.ts";

/** How a provider ran: a simulated answer or picture is labelled as such. */
export type ProviderRun = "live" | "simulated";

export type MessageRole = "user" | "assistant";
export type MessageType = "text" | "image" | "video";
export type MessageStatus = "pending" | "streaming" | "awaiting_approval" | "done" | "error" | "aborted";

/**
 * Where a tool call of an answer stands: `running` until its result, `awaiting_approval` while the user decides,
 * `declined` when they said no (or did not answer in time).
 */
export type ToolCallStatus = "running" | "awaiting_approval" | "declined" | "done" | "error";

/** A tool call of an answer, with its result once it has one (the `tool_call` and `tool_result` events, kept). */
export interface ToolCallView extends ToolCallEvent {
  readonly status: ToolCallStatus;
  readonly ok?: boolean;
  readonly summary?: string;
  readonly job_id?: string;
  readonly error?: string;
}
export type JobKind = "image" | "image_edit" | "video";
export type JobStatus = "queued" | "running" | "done" | "error";

/** A search result an answer was grounded on. */
export interface GroundingResult {
  readonly title: string;
  readonly url: string;
  readonly content: string;
  readonly score: number;
}

/** An uploaded image a chat message carries. */
export interface Attachment {
  readonly path: string;
  readonly mime_type: string;
}

/** A picture as a read shows it: a URL to fetch now (absent when the stored object is gone). */
export interface MediaImage {
  readonly url?: string;
  /** A small WebP of the picture (longest side `THUMBNAIL_MAX_PX`), for lists and previews. */
  readonly thumbnail_url?: string;
  readonly mime_type: string;
  readonly width?: number;
  readonly height?: number;
}

/** Media as a read shows them, and `media_missing` when a stored object is gone. */
export interface ServedMedia {
  readonly images?: readonly MediaImage[];
  readonly video_url?: string;
  /** A WebP of an early frame of the video, for the player's poster. */
  readonly poster_url?: string;
  readonly media_missing?: true;
}

/** A chat in `GET /history/chats`. */
export interface Chat {
  readonly chat_id: string;
  readonly title: string;
  readonly created_at: string;
  readonly updated_at: string;
}

/** A message in `GET /history/chats/{chat_id}`. Dates are ISO 8601 strings. */
export interface Message extends ServedMedia {
  readonly message_id: string;
  readonly chat_id: string;
  readonly role: MessageRole;
  readonly type: MessageType;
  readonly content: string;
  readonly status: MessageStatus;
  readonly created_at: string;
  readonly updated_at: string;
  /** The model that answered, and the one asked for when a fallback answered. */
  readonly model?: string;
  readonly fallback_from?: string;
  readonly provider?: ProviderRun;
  /** The model's thought summary, when the user asked to see it. */
  readonly thinking?: string;
  readonly grounding?: readonly GroundingResult[];
  readonly citations?: readonly Citation[];
  readonly citations_removed?: number;
  readonly attachments?: readonly Attachment[];
  readonly job_id?: string;
  readonly progress?: number;
  readonly error?: string;
  readonly error_code?: string;
  readonly usage?: Usage;
  readonly latency_ms?: number;
  readonly finish_reason?: string;
  readonly media_expired?: boolean;
  /** A finished video's length and size, read from the file. */
  readonly duration_seconds?: number;
  readonly width?: number;
  readonly height?: number;
  /** A masked edit: outside the mask (and a few pixels of feathering) the picture is the input's, exactly. */
  readonly mask_applied?: boolean;
  /** The tools the answer called, in order, with their results. */
  readonly tool_calls?: readonly ToolCallView[];
  /** While `awaiting_approval`: when the question lapses (the answer then ends, the call declined). */
  readonly approval_expires_at?: string;
}

export interface ChatList {
  readonly ok: true;
  readonly chats: readonly Chat[];
  readonly next_cursor: string | null;
}

export interface ChatHistory {
  readonly ok: true;
  readonly chat: Chat;
  readonly messages: readonly Message[];
  readonly next_cursor: string | null;
}

/** What `POST /image/generate`, `/image/edit` and `/video/generate` answer. */
export interface JobSubmission {
  readonly ok: true;
  readonly chat_id: string;
  readonly message_id: string;
  readonly job_id: string;
  readonly request_id: string;
  readonly status: JobStatus;
  /** The model asked for (a fallback may do the work: see the job's `model` and `fallback_from`). */
  readonly model: string;
}

/** `GET /jobs/{job_id}` and `GET /video/status/{job_id}`. */
export interface Job extends ServedMedia {
  readonly ok: true;
  readonly job_id: string;
  readonly kind: JobKind;
  readonly status: JobStatus;
  readonly progress: number;
  readonly chat_id: string;
  readonly message_id: string;
  readonly request_id: string;
  readonly model: string;
  readonly fallback_from?: string;
  readonly provider: ProviderRun;
  readonly error?: string;
  readonly error_code?: string;
  readonly mask_applied?: boolean;
  readonly duration_seconds?: number;
  readonly width?: number;
  readonly height?: number;
  /** The receipt, once the job has ended (a failed job costs nothing). */
  readonly usage?: Usage;
  readonly created_at: string;
  readonly updated_at: string;
}

/** One model of `GET /models`. */
export interface ModelOption {
  readonly id: string;
  readonly label: string;
  readonly provider: string;
  readonly default: boolean;
  readonly lifecycle: "stable" | "preview" | "deprecated";
  readonly shutdown_date?: string;
  readonly capabilities: ModelCapabilities;
}

/** What a picker needs to know of a model; each kind fills in its own fields. */
export interface ModelCapabilities {
  /** Text: thought summaries or thinking levels. */
  readonly thinking?: boolean;
  readonly thinking_levels?: readonly string[];
  readonly thought_summaries?: boolean;
  readonly grounding?: boolean;
  readonly function_calling?: boolean;
  /** Text and video: images accepted as input. */
  readonly image_input?: boolean;
  readonly context_tokens?: number;
  readonly max_output_tokens?: number;
  /** Image and video. */
  readonly aspect_ratios?: readonly string[];
  readonly image_sizes?: readonly string[];
  readonly edit?: boolean;
  readonly max_input_images?: number;
  /** Video: clip lengths offered (within the server's own cap), resolutions, edits that continue a video. */
  readonly durations_seconds?: readonly number[];
  readonly resolutions?: readonly string[];
  readonly conversational_edits?: boolean;
}

export interface ModelList {
  readonly ok: true;
  readonly text: readonly ModelOption[];
  readonly image: readonly ModelOption[];
  readonly video: readonly ModelOption[];
}

/**
 * What a service API key may do: `chat` (stream, resume, stop, delete chats), `jobs` (images, videos, uploads,
 * job status), `history:read` (list and read chats), `admin` (the admin routes).
 */
export const API_KEY_SCOPES = ["chat", "jobs", "history:read", "admin"] as const;

export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/** A service API key as `GET /admin/api-keys` lists it: never its secret. */
export interface ApiKey {
  readonly key_id: string;
  readonly name: string;
  readonly scopes: readonly ApiKeyScope[];
  /** The key's first characters, to recognise it in a secret manager. */
  readonly prefix: string;
  readonly created_at: string;
  readonly last_used_at?: string;
  readonly revoked_at?: string;
}

export interface ApiKeyList {
  readonly ok: true;
  readonly api_keys: readonly ApiKey[];
}

/** `POST /admin/api-keys`: the only time the key itself is shown. */
export interface CreatedApiKey extends ApiKey {
  readonly ok: true;
  readonly api_key: string;
}

/** `GET /health` and `GET /readyz` (503 with `ok: false` when the data backend or blob store is down). */
export interface Health {
  readonly ok: boolean;
  readonly services: Readonly<Record<string, boolean>>;
  readonly mode: "embedded" | "firebase";
  readonly providers: Readonly<Record<string, "live" | "simulated" | "unconfigured">>;
  readonly version: string;
}

/** `GET /account`. */
export interface Account {
  readonly ok: true;
  readonly uid: string;
  readonly admin: boolean;
  readonly tier: "free" | "paid";
}

/** A user's spending in one calendar month (UTC), in US dollars. */
export interface UsageMonth {
  /** The month's first moment (ISO 8601). */
  readonly start: string;
  /** Spent by finished generations: the sum of their receipts. */
  readonly cost_usd: number;
  /** Held by generations still running (released, less what they cost, when they end). */
  readonly reserved_usd: number;
  /** null: no money limit. */
  readonly budget_usd: number | null;
  /** What a new request may still reserve; null with no limit. */
  readonly remaining_usd: number | null;
  /** Generations started this month. */
  readonly requests: number;
  readonly by_kind: { readonly text: number; readonly image: number; readonly video: number; readonly search: number };
}

/** `GET /account/usage`: this month, and the last 30 days day by day. */
export interface AccountUsage {
  readonly ok: true;
  /** Whose spending: real (`live`) or the labelled simulations', which are counted apart. */
  readonly provider: ProviderRun;
  readonly month: UsageMonth;
  readonly days: readonly { readonly date: string; readonly cost_usd: number; readonly requests: number }[];
}

/** `GET /admin/usage?month=YYYY-MM`: users by spend, biggest first. */
export interface AdminUsage {
  readonly ok: true;
  readonly month: string;
  readonly provider: ProviderRun;
  readonly users: readonly {
    readonly uid: string;
    readonly cost_usd: number;
    readonly reserved_usd: number;
    readonly requests: number;
  }[];
  readonly next_cursor: string | null;
}

/** `POST /admin/users/{uid}/budget`. */
export interface BudgetSet {
  readonly ok: true;
  readonly uid: string;
  readonly monthly_usd: number | null;
}

/** `GET /account/export`: everything the user has, chats with their messages. */
export interface AccountExport {
  readonly ok: true;
  readonly uid: string;
  readonly exported_at: string;
  readonly chats: readonly (Chat & { readonly messages: readonly Message[] })[];
  /** Spending by month (each message's own receipt is in its `usage`). */
  readonly usage: readonly {
    readonly month: string;
    readonly provider: ProviderRun;
    readonly cost_usd: number;
    readonly requests: number;
  }[];
}

/** `DELETE /account`. */
export interface AccountDeletion {
  readonly ok: true;
  readonly deleted: { readonly documents: number; readonly media: number };
}

/** `POST /chat/stop`: the message's status once stopped (or its final one, if it had ended). */
export interface StopResult {
  readonly ok: true;
  readonly message_id: string;
  readonly status: MessageStatus;
}

/** `DELETE /history/chats/{chat_id}`: `deleting` while a worker still holds one of its jobs. */
export interface ChatDeletionResult {
  readonly ok: true;
  readonly chat_id: string;
  readonly status: "deleted" | "deleting";
  readonly deleted: { readonly messages: number; readonly media: number };
  readonly pending_jobs: number;
}

/** `POST /uploads`. */
export interface Upload {
  readonly ok: true;
  /** What `DELETE /uploads/{id}` takes. */
  readonly id: string;
  readonly path: string;
  readonly url: string;
  /** A WebP of the upload, longest side `THUMBNAIL_MAX_PX`, for the composer's preview. */
  readonly thumbnail_url: string;
  readonly mime_type: string;
  readonly size: number;
  readonly width: number;
  readonly height: number;
}

/** `DELETE /uploads/{id}`. */
export interface UploadDeletion {
  readonly ok: true;
  readonly id: string;
}

/** `POST /admin/cleanup`: what one round of the sweep changed, and whether to call again. */
export interface CleanupResult {
  readonly ok: true;
  readonly removed: {
    readonly requests: number;
    readonly deleted_chats: number;
    readonly aborted_streams: number;
    readonly stale_jobs: number;
    readonly media: number;
  };
  readonly more: boolean;
}

/** `DELETE /admin/api-keys/{key_id}`. */
export interface RevokedApiKey extends ApiKey {
  readonly ok: true;
  readonly revoked_at: string;
}
