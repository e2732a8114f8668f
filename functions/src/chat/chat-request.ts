import { z } from "zod";
import type { Settings } from "../config/settings.ts";
import { parseInput } from "../http/validation.ts";
import type { ModelChoice } from "../models/model-choices.ts";
import { CLIENT_ID_PATTERN, newId } from "../store/ids.ts";
import type { Attachment } from "../store/records.ts";

/** A validated `POST /chat/stream` body (or streaming-callable payload), with defaults applied. */
export interface ChatTurnRequest {
  readonly message: string;
  readonly requestId: string;
  readonly chatId: string | undefined;
  readonly grounding: boolean;
  /** The model as the request named it (absent: the default), for the idempotency fingerprint. */
  readonly requestedModel: string | undefined;
  /** The requested (or default) model and the fallbacks that can answer this request. */
  readonly models: ModelChoice<"text">;
  /** Stream the model's thought summaries as `thinking` events. */
  readonly thinking: boolean;
  readonly attachments: readonly Attachment[];
}

const ID_RULE = "1-128 characters of A-Z, a-z, 0-9, '.', '_', ':' or '-'";

export const clientId = () => z.string().regex(CLIENT_ID_PATTERN, ID_RULE);

/** Schemas are built once per settings object: zod compiles each schema on first use, per instance. */
const schemas = new WeakMap<Settings, ReturnType<typeof buildChatBodySchema>>();

function chatBodySchema(settings: Settings) {
  let schema = schemas.get(settings);
  if (schema === undefined) {
    schema = buildChatBodySchema(settings);
    schemas.set(settings, schema);
  }
  return schema;
}

function buildChatBodySchema(settings: Settings) {
  return z.object({
    message: z
      .string({ error: "Required: the message text" })
      .refine((text) => text.trim().length > 0, "Must not be empty")
      .refine((text) => text.length <= settings.MAX_MESSAGE_CHARS, `At most ${settings.MAX_MESSAGE_CHARS} characters`),
    request_id: clientId().optional(),
    chat_id: clientId().optional(),
    grounding: z.boolean({ error: "Must be true or false" }).default(false),
    model: z.string().optional(),
    thinking: z.boolean({ error: "Must be true or false" }).default(false),
    attachments: z
      .array(z.object({ path: z.string().min(1), mime_type: z.string().min(1) }))
      .max(settings.MAX_ATTACHMENTS, `At most ${settings.MAX_ATTACHMENTS} attachments`)
      .default([]),
  });
}

/**
 * Validates a chat body. `chooseModel` refuses (400) a model the caller may not pick, and leaves out of the
 * fallback chain the models that cannot take what the request sends (images).
 */
export function parseChatTurn(
  body: unknown,
  settings: Settings,
  chooseModel: (requested: string | undefined, needs: { readonly images: boolean }) => ModelChoice<"text">,
): ChatTurnRequest {
  const parsed = parseInput(chatBodySchema(settings), body);
  return {
    message: parsed.message,
    requestId: parsed.request_id ?? newId("req"),
    chatId: parsed.chat_id,
    grounding: parsed.grounding,
    requestedModel: parsed.model,
    models: chooseModel(parsed.model, { images: parsed.attachments.length > 0 }),
    thinking: parsed.thinking,
    attachments: parsed.attachments,
  };
}
