import { z } from "zod";
import type { Settings } from "../config/settings.ts";
import { invalidArgument } from "../errors/app-error.ts";
import { parseInput } from "../http/validation.ts";
import { CLIENT_ID_PATTERN, newId } from "../store/ids.ts";
import type { Attachment } from "../store/records.ts";

/** A validated `POST /chat/stream` body (or streaming-callable payload), with defaults applied. */
export interface ChatTurnRequest {
  readonly message: string;
  readonly requestId: string;
  readonly chatId: string | undefined;
  readonly grounding: boolean;
  readonly model: string;
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
    attachments: z
      .array(z.object({ path: z.string().min(1), mime_type: z.string().min(1) }))
      .max(settings.MAX_ATTACHMENTS, `At most ${settings.MAX_ATTACHMENTS} attachments`)
      .default([]),
  });
}

export function parseChatTurn(body: unknown, settings: Settings, allowedModels: ReadonlySet<string>): ChatTurnRequest {
  const parsed = parseInput(chatBodySchema(settings), body);
  const model = parsed.model ?? settings.DEFAULT_MODEL;
  if (!allowedModels.has(model)) {
    throw invalidArgument("Unknown model.", { model: `Must be one of: ${[...allowedModels].join(", ")}` });
  }
  return {
    message: parsed.message,
    requestId: parsed.request_id ?? newId("req"),
    chatId: parsed.chat_id,
    grounding: parsed.grounding,
    model,
    attachments: parsed.attachments,
  };
}
