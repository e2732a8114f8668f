import type { ChatDeletion } from "../../chat/chat-deletion.ts";
import type { HistoryService } from "../../chat/history-service.ts";
import { pageOf } from "./page-query.ts";
import { invalidArgument } from "../../errors/app-error.ts";
import { CLIENT_ID_PATTERN } from "../../contract/identifiers.ts";
import type { RequestContext } from "../request-context.ts";
import type { Route } from "../router.ts";
import type { ChatDeletionResult, ChatHistory, ChatList } from "../../contract/resources.ts";

/** `GET /history/chats`, `GET /history/chats/{chat_id}`, `DELETE /history/chats/{chat_id}`. */
export function historyRoutes(history: HistoryService, deletion: ChatDeletion): Route[] {
  return [
    {
      method: "GET",
      path: "/history/chats",
      access: "history:read",
      handle: async (context) => {
        const result = await history.listChats(context.caller.uid, pageOf(context, 20, 100));
        context.sendJson(200, { ok: true, ...result } satisfies ChatList);
      },
    },
    {
      method: "GET",
      path: "/history/chats/:chatId",
      access: "history:read",
      handle: async (context) => {
        const chatId = chatIdOf(context);
        context.logFields.chat_id = chatId;
        const result = await history.getChat(context.caller.uid, chatId, pageOf(context, 50, 200));
        context.sendJson(200, { ok: true, ...result } satisfies ChatHistory);
      },
    },
    {
      method: "DELETE",
      path: "/history/chats/:chatId",
      access: "chat",
      handle: async (context) => {
        const chatId = chatIdOf(context);
        context.logFields.chat_id = chatId;
        const progress = await deletion.delete(context.caller.uid, chatId);
        context.sendJson(200, {
          ok: true,
          chat_id: chatId,
          status: progress.status,
          deleted: { messages: progress.messages, media: progress.media },
          pending_jobs: progress.pending_jobs,
        } satisfies ChatDeletionResult);
      },
    },
  ];
}

function chatIdOf(context: RequestContext): string {
  const chatId = context.params.chatId ?? "";
  if (!CLIENT_ID_PATTERN.test(chatId)) throw invalidArgument("Invalid chat_id.", { chat_id: "Not a chat id" });
  return chatId;
}
