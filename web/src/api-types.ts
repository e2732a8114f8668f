/** The parts of the API's JSON (docs/api.md) this client reads. */

export interface Citation {
  readonly index: number;
  readonly url: string;
  readonly title: string;
}

export interface MediaImage {
  readonly url: string;
  readonly mime_type: string;
  readonly width?: number;
  readonly height?: number;
}

export type MessageStatus = "streaming" | "pending" | "done" | "error" | "aborted";

export interface Message {
  readonly message_id: string;
  readonly chat_id: string;
  readonly role: "user" | "assistant";
  readonly type: "text" | "image" | "video";
  readonly content: string;
  readonly status: MessageStatus;
  readonly citations?: readonly Citation[];
  readonly images?: readonly MediaImage[];
  readonly video_url?: string;
  readonly job_id?: string;
  readonly error_code?: string;
  readonly media_expired?: boolean;
  /** The model that answered, and the one asked for when a fallback answered. */
  readonly model?: string;
  readonly fallback_from?: string;
  /** The model's thought summary, when the user asked to see it. */
  readonly thinking?: string;
}

/** One model of `GET /models`. */
export interface ModelOption {
  readonly id: string;
  readonly label: string;
  readonly default: boolean;
  readonly lifecycle: "stable" | "preview" | "deprecated";
  readonly capabilities: { readonly thinking?: boolean };
}

export interface ModelList {
  readonly text: readonly ModelOption[];
  readonly image: readonly ModelOption[];
  readonly video: readonly ModelOption[];
}

export interface ChatSummary {
  readonly chat_id: string;
  readonly title: string;
}

export interface ChatList {
  readonly chats: readonly ChatSummary[];
}

export interface ChatHistory {
  readonly chat: ChatSummary;
  readonly messages: readonly Message[];
  readonly next_cursor: string | null;
}

/** What POST /image/generate, /image/edit and /video/generate answer. */
export interface JobSubmission {
  readonly chat_id: string;
  readonly message_id: string;
  readonly job_id: string;
}

export interface Job {
  readonly job_id: string;
  readonly status: "queued" | "running" | "done" | "error";
  readonly progress: number;
  readonly images?: readonly MediaImage[];
  readonly video_url?: string;
  readonly error_code?: string;
  readonly model?: string;
  readonly fallback_from?: string;
}

export interface ErrorEnvelope {
  readonly error: { readonly code: string; readonly message: string; readonly details?: Record<string, unknown> };
}

/** The data of the SSE events of POST /chat/stream and GET /chat/stream/{message_id}. */
export interface MetaEvent {
  readonly chat_id: string;
  readonly message_id: string;
  /** The model asked for. */
  readonly model?: string;
}

export interface DoneEvent {
  readonly model?: string;
}

export interface StreamErrorEvent {
  readonly code: string;
  readonly message: string;
}
