import { chatBodySchema, type RequestLimits } from "../contract/request-bodies.ts";
import { parseInput } from "../errors/parse-input.ts";
import type { ModelChoice } from "../models/model-choices.ts";
import { newId } from "../store/ids.ts";
import type { Attachment } from "../contract/resources.ts";

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

/**
 * Validates a chat body. `chooseModel` refuses (400) a model the caller may not pick, and leaves out of the
 * fallback chain the models that cannot take what the request sends (images).
 */
export function parseChatTurn(
  body: unknown,
  limits: RequestLimits,
  chooseModel: (requested: string | undefined, needs: { readonly images: boolean }) => ModelChoice<"text">,
): ChatTurnRequest {
  const parsed = parseInput(chatBodySchema(limits), body);
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
