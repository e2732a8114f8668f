import type { ApiClient } from "./api-client.ts";
import type {
  ChatBody,
  ImageEditBody,
  ImageGenerateBody,
  VideoGenerateBody,
} from "../../functions/src/contract/request-bodies.ts";
import type {
  AccountUsage,
  ChatHistory,
  ChatList,
  JobSubmission,
  Message,
  ModelList,
} from "../../functions/src/contract/resources.ts";
import type { Citation, MetaEvent, ToolCallEvent, ToolResultEvent } from "../../functions/src/contract/chat-events.ts";
import { byId, element } from "./dom.ts";
import { describeError, describeErrorCode } from "./error-messages.ts";
import { trackJob } from "./job-tracker.ts";
import type { MaskEditor } from "./mask-editor.ts";
import { formatUsd, MessageView, type ShownImage } from "./message-view.ts";
import { ReplyStream, type StreamOutcome } from "./reply-stream.ts";
import { streamMemory } from "./stream-memory.ts";

/**
 * The signed-in page: the chat list, the open chat's messages, and the composer. It asks for answers, images
 * and videos, follows them to the end (streams, resumes, job polling), and reports problems in plain words.
 * Work that belongs to the open chat is cancelled when another chat is opened; the server carries on with it,
 * and opening the chat again picks it up from the history.
 */

type Kind = "text" | "image" | "video";

/** A chat's history is read page by page (oldest first); a long chat stops at this many pages. */
const MAX_HISTORY_PAGES = 10;

export class Workspace {
  readonly #api: ApiClient;
  readonly #editor: MaskEditor;
  readonly #panel = byId("workspace", HTMLDivElement);
  readonly #chatList = byId("chat-list", HTMLUListElement);
  readonly #budget = byId("budget", HTMLParagraphElement);
  readonly #title = byId("chat-title", HTMLHeadingElement);
  readonly #messages = byId("messages", HTMLOListElement);
  readonly #log = byId("conversation-log", HTMLDivElement);
  readonly #status = byId("status", HTMLParagraphElement);
  readonly #error = byId("error", HTMLParagraphElement);
  readonly #form = byId("composer", HTMLFormElement);
  readonly #input = byId("message", HTMLTextAreaElement);
  readonly #kind = byId("kind", HTMLSelectElement);
  readonly #model = byId("model", HTMLSelectElement);
  readonly #grounding = byId("grounding", HTMLInputElement);
  readonly #thinking = byId("thinking", HTMLInputElement);
  /** What `GET /models` offers this user, per kind. */
  #models: ModelList | undefined;
  readonly #send = byId("send", HTMLButtonElement);
  readonly #stop = byId("stop", HTMLButtonElement);
  #chatId: string | undefined;
  #chatWork = new AbortController();
  /** The answer streaming in the open chat, which the Stop button stops. */
  #streaming: ReplyStream | undefined;

  constructor(api: ApiClient, editor: MaskEditor) {
    this.#api = api;
    this.#editor = editor;
    this.#form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.#submit();
    });
    this.#input.addEventListener("keydown", (event) => {
      // Enter sends and Shift+Enter adds a line; an IME composition's Enter belongs to the composition.
      if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
      event.preventDefault();
      this.#form.requestSubmit();
    });
    this.#kind.addEventListener("change", () => this.#showModels());
    this.#model.addEventListener("change", () => this.#showModels());
    this.#stop.addEventListener("click", () => void this.#stopAnswer());
    // The address's fragment names the open chat: the skip link moves the focus without replacing it.
    byId("skip-link", HTMLAnchorElement).addEventListener("click", (event) => {
      event.preventDefault();
      this.#input.focus();
    });
    byId("new-chat", HTMLButtonElement).addEventListener("click", () => {
      void this.#openChat(undefined);
      this.#input.focus();
    });
  }

  /** Shows the workspace for the signed-in user, reopening the chat of an answer interrupted by a reload. */
  async show(): Promise<void> {
    this.#panel.hidden = false;
    this.#input.focus();
    const chatId = streamMemory.chatId() ?? (location.hash.startsWith("#chat-") ? location.hash.slice(1) : undefined);
    await Promise.all([this.#refreshChats(), this.#openChat(chatId), this.#loadModels(), this.#refreshBudget()]);
  }

  /** The month's spending and what is left of the budget, under the chat list. */
  async #refreshBudget(): Promise<void> {
    try {
      const { month, provider } = await this.#api.get<AccountUsage>("/account/usage");
      const spent = `This month: ${formatUsd(month.cost_usd)}`;
      const left =
        month.budget_usd === null
          ? " (no budget limit)"
          : ` of ${formatUsd(month.budget_usd)}, ${formatUsd(month.remaining_usd ?? 0)} left`;
      this.#budget.textContent = `${spent}${left}${provider === "simulated" ? " (simulated)" : ""}`;
    } catch {
      // Spending is a courtesy here: the chat works without it.
      this.#budget.textContent = "";
    }
  }

  async #loadModels(): Promise<void> {
    try {
      this.#models = await this.#api.get<ModelList>("/models");
      this.#showModels();
    } catch (error) {
      this.#showError(error);
    }
  }

  /** The model picker for the chosen kind (keeping the choice when it is still offered), and what it allows. */
  #showModels(): void {
    const kind = this.#kind.value as Kind;
    const options = this.#models?.[kind] ?? [];
    const chosen = this.#model.value;
    if ([...this.#model.options].map((option) => option.value).join() !== options.map((model) => model.id).join()) {
      this.#model.replaceChildren(
        ...options.map((model) =>
          element(
            "option",
            { value: model.id },
            model.lifecycle === "stable" ? model.label : `${model.label} (${model.lifecycle})`,
          ),
        ),
      );
      const keep = options.find((model) => model.id === chosen) ?? options.find((model) => model.default);
      if (keep !== undefined) this.#model.value = keep.id;
    }
    const model = options.find((option) => option.id === this.#model.value);
    this.#grounding.disabled = kind !== "text";
    this.#thinking.disabled = kind !== "text" || model?.capabilities.thinking !== true;
  }

  /** The picked model, when the picker offers one. */
  #pickedModel(): { model?: string } {
    return this.#model.value === "" ? {} : { model: this.#model.value };
  }

  /** Signed out: nothing of this user's stays on the page, or is reopened for the next one. */
  hide(): void {
    this.#panel.hidden = true;
    this.#chatWork.abort();
    streamMemory.clear();
    this.#setChat(undefined, "New chat");
    this.#messages.replaceChildren();
    this.#chatList.replaceChildren();
    this.#budget.textContent = "";
  }

  async #refreshChats(): Promise<void> {
    try {
      const { chats } = await this.#api.get<ChatList>("/history/chats?limit=50");
      const open = chats.find((chat) => chat.chat_id === this.#chatId);
      if (open !== undefined) this.#title.textContent = open.title;
      this.#chatList.replaceChildren(
        ...chats.map((chat) => {
          const button = element(
            "button",
            {
              type: "button",
              "data-chat-id": chat.chat_id,
              "aria-current": chat.chat_id === this.#chatId ? "true" : undefined,
            },
            chat.title,
          );
          button.addEventListener("click", () => void this.#openChat(chat.chat_id));
          return element("li", {}, button);
        }),
      );
    } catch (error) {
      this.#showError(error);
    }
  }

  async #openChat(chatId: string | undefined): Promise<void> {
    this.#chatWork.abort();
    this.#chatWork = new AbortController();
    this.#setChat(chatId, "New chat");
    this.#messages.replaceChildren();
    this.#error.textContent = "";
    this.#status.textContent = "";
    this.#setStreaming(undefined);
    if (chatId === undefined) return;
    const signal = this.#chatWork.signal;
    try {
      const messages: Message[] = [];
      let page: ChatHistory | undefined;
      for (let count = 0; count < MAX_HISTORY_PAGES && (page === undefined || page.next_cursor !== null); count++) {
        const cursor = page?.next_cursor == null ? "" : `&cursor=${encodeURIComponent(page.next_cursor)}`;
        page = await this.#api.get<ChatHistory>(`/history/chats/${encodeURIComponent(chatId)}?limit=200${cursor}`);
        messages.push(...page.messages);
      }
      if (signal.aborted || page === undefined) return;
      this.#setChat(chatId, page.chat.title);
      let prompt = "";
      for (const message of messages) {
        if (message.role === "user") prompt = message.content;
        this.#scrollWhenLoaded(this.#showMessage(message, prompt));
      }
      this.#scrollToEnd();
    } catch (error) {
      if (signal.aborted) return;
      this.#setChat(undefined, "New chat");
      this.#showError(error);
    }
  }

  #setChat(chatId: string | undefined, title: string): void {
    this.#chatId = chatId;
    this.#title.textContent = title;
    history.replaceState(null, "", chatId === undefined ? location.pathname : `#${chatId}`);
    for (const button of this.#chatList.querySelectorAll("button")) {
      if (button.dataset.chatId === chatId) button.setAttribute("aria-current", "true");
      else button.removeAttribute("aria-current");
    }
  }

  /** Renders a message from the history, and follows it if it is still being written. */
  #showMessage(message: Message, prompt: string): MessageView {
    if (message.role === "user") return this.#append(MessageView.user(message.content));
    const view = this.#append(MessageView.assistant());
    view.messageId = message.message_id;
    view.showFallback(message.model, message.fallback_from);
    view.showCost(message.usage, message.provider);
    if (message.type === "text") this.#showAnswer(view, message);
    else if (message.media_expired === true) view.showNote(`This ${message.type} has expired.`);
    else if (message.status === "pending" && message.job_id !== undefined) {
      void this.#trackMedia(view, message.type, message.job_id, prompt);
    } else if (message.status === "error") view.showError(describeErrorCode(message.error_code ?? "internal"));
    else if (message.type === "image") view.showImages(message.images ?? [], prompt, (image) => void this.#edit(image));
    else if (message.video_url !== undefined)
      view.showVideo({ url: message.video_url, poster: message.poster_url }, prompt);
    return view;
  }

  /**
   * A text answer from the history. One still streaming is resumed: from what this tab had already shown if it
   * was streaming it before a reload (stream memory), else from the start.
   */
  #showAnswer(view: MessageView, message: Message): void {
    view.showSources(message.citations ?? []);
    view.showThinking(message.thinking ?? "");
    view.showToolCalls(message.tool_calls ?? []);
    if (message.status === "streaming") {
      const saved = streamMemory.load(message.message_id);
      const reply = new ReplyStream(this.#api, this.#replyHandlers(view), {
        chatId: message.chat_id,
        messageId: message.message_id,
        offset: saved?.offset ?? 0,
        content: saved?.content ?? "",
      });
      view.showText(saved?.content ?? "");
      void this.#follow(view, reply, () => reply.resume(this.#chatWork.signal));
      return;
    }
    view.showText(message.content);
    const waiting = message.tool_calls?.find((call) => call.status === "awaiting_approval");
    if (message.status === "awaiting_approval" && waiting !== undefined) {
      const reply = new ReplyStream(this.#api, this.#replyHandlers(view), {
        chatId: message.chat_id,
        messageId: message.message_id,
        offset: message.content.length,
        content: message.content,
      });
      this.#askApproval(view, reply, waiting);
    }
    if (message.status === "error" || message.status === "aborted") {
      this.#showEnd(view, { kind: "error", code: message.error_code ?? message.status, message: "" });
    }
  }

  async #submit(): Promise<void> {
    const prompt = this.#input.value.trim();
    if (prompt === "" || this.#send.disabled) return;
    this.#error.textContent = "";
    this.#input.value = "";
    const kind = this.#kind.value as Kind;
    const requestId = `web-${crypto.randomUUID()}`;
    const chat = this.#chatId === undefined ? {} : { chat_id: this.#chatId };
    const model = this.#pickedModel();
    if (kind === "text") {
      const thinking = !this.#thinking.disabled && this.#thinking.checked ? { thinking: true } : {};
      const grounding = this.#grounding.checked;
      await this.#ask({ message: prompt, request_id: requestId, grounding, ...model, ...thinking, ...chat });
      return;
    }
    const route = kind === "image" ? "/image/generate" : "/video/generate";
    const body = { prompt, request_id: requestId, ...model, ...chat };
    const submitted = await this.#submitJob(kind, route, body, prompt, prompt);
    if (!submitted && this.#input.value === "") this.#input.value = prompt;
  }

  /** Asks for a text answer and streams it into the conversation. */
  async #ask(body: ChatBody): Promise<void> {
    const question = this.#append(MessageView.user(body.message));
    const view = this.#append(MessageView.assistant());
    const reply = new ReplyStream(this.#api, this.#replyHandlers(view));
    const signal = this.#chatWork.signal;
    const ended = this.#follow(view, reply, () => reply.send(body, signal));
    if (!(await ended)) {
      // Refused before anything was stored (a limit, a validation error): give the text back to retry.
      question.element.remove();
      view.element.remove();
      this.#input.value = body.message;
    }
  }

  #replyHandlers(view: MessageView) {
    return {
      meta: (meta: MetaEvent) => {
        view.messageId = meta.message_id;
        view.askedModel = meta.model;
        if (this.#chatId === undefined) {
          this.#setChat(meta.chat_id, "New chat");
          void this.#refreshChats();
        }
      },
      sources: (citations: readonly Citation[]) => view.showSources(citations),
      text: (content: string) => {
        view.showText(content);
        this.#scrollToEnd();
      },
      thinking: (text: string) => {
        view.showThinking(text);
        this.#scrollToEnd();
      },
      toolCall: (call: ToolCallEvent) => view.toolCall(call),
      toolResult: (result: ToolResultEvent) => view.toolResult(result),
    };
  }

  /** Runs a stream to its end; false when the request was refused before it started (the error is shown). */
  async #follow(view: MessageView, reply: ReplyStream, run: () => Promise<StreamOutcome>): Promise<boolean> {
    view.busy = true;
    this.#setStreaming(reply);
    this.#status.textContent = "Atelier is answering…";
    try {
      const outcome = await run();
      if (outcome.kind === "detached") return true;
      this.#showEnd(view, outcome);
      if (outcome.kind === "approval") this.#askApproval(view, reply, outcome.call);
      // A picture or video a tool started shows as a message of its own: reload the chat to follow it.
      else if (outcome.kind === "done" && view.toolJobs.length > 0) void this.#openChat(this.#chatId);
      this.#status.textContent =
        outcome.kind === "done"
          ? "Answer complete."
          : outcome.kind === "approval"
            ? "Atelier is waiting for your approval."
            : outcome.kind === "error" && outcome.code === "aborted"
              ? "Answer stopped."
              : "";
      void this.#refreshChats();
      void this.#refreshBudget();
      return true;
    } catch (error) {
      this.#status.textContent = "";
      this.#showError(error);
      return false;
    } finally {
      view.busy = false;
      if (this.#streaming === reply) this.#setStreaming(undefined);
    }
  }

  #showEnd(view: MessageView, outcome: StreamOutcome): void {
    if (outcome.kind === "done" && outcome.model !== view.askedModel) view.showFallback(outcome.model, view.askedModel);
    if (outcome.kind === "done") view.showCost(outcome.usage, outcome.provider);
    if (outcome.kind === "error" && outcome.code === "aborted") view.showNote("Stopped.");
    else if (outcome.kind === "error") view.showError(describeErrorCode(outcome.code, outcome.message));
    else if (outcome.kind === "interrupted") {
      view.showError("The connection was lost before the answer finished. Reload the page to see the rest.");
    }
  }

  /** Shows a waiting call's question; the answer chosen continues the same message. */
  #askApproval(view: MessageView, reply: ReplyStream, call: ToolCallEvent): void {
    view.askApproval(call, (approved) => {
      void this.#follow(view, reply, () => reply.approve(call.call_id, approved, this.#chatWork.signal));
    });
  }

  #setStreaming(reply: ReplyStream | undefined): void {
    this.#streaming = reply;
    this.#stop.disabled = reply === undefined;
    this.#send.disabled = reply !== undefined;
  }

  async #stopAnswer(): Promise<void> {
    const messageId = this.#streaming?.messageId;
    if (messageId === undefined) return;
    this.#stop.disabled = true;
    this.#status.textContent = "Stopping…";
    try {
      await this.#api.post("/chat/stop", { message_id: messageId });
    } catch (error) {
      this.#stop.disabled = false;
      this.#showError(error);
    }
  }

  /**
   * Submits an image or video job, shows it in the conversation and follows it to its media. False when the
   * submission was refused (the error is shown).
   */
  async #submitJob(
    kind: "image" | "video",
    route: string,
    body: ImageGenerateBody | ImageEditBody | VideoGenerateBody,
    shown: string,
    prompt: string,
  ): Promise<boolean> {
    let job: JobSubmission;
    try {
      job = await this.#api.post<JobSubmission>(route, body);
    } catch (error) {
      this.#showError(error);
      return false;
    }
    if (this.#chatId === undefined) {
      this.#setChat(job.chat_id, shown);
      void this.#refreshChats();
    }
    this.#append(MessageView.user(shown));
    const view = this.#append(MessageView.assistant());
    view.messageId = job.message_id;
    void this.#trackMedia(view, kind, job.job_id, prompt);
    return true;
  }

  async #trackMedia(view: MessageView, kind: "image" | "video", jobId: string, prompt: string): Promise<void> {
    view.showProgress(kind, 0);
    this.#status.textContent = `Generating ${kind}…`;
    try {
      const job = await trackJob(
        this.#api,
        jobId,
        (progress) => view.showProgress(kind, progress),
        this.#chatWork.signal,
      );
      if (job === undefined) return;
      if (job.status === "error") {
        view.showError(describeErrorCode(job.error_code ?? "internal"));
        this.#status.textContent = "";
      } else {
        view.showFallback(job.model, job.fallback_from);
        view.showCost(job.usage, job.provider);
        if (kind === "image") view.showImages(job.images ?? [], prompt, (image) => void this.#edit(image));
        else if (job.video_url !== undefined) view.showVideo({ url: job.video_url, poster: job.poster_url }, prompt);
        this.#status.textContent = `${kind === "image" ? "Image" : "Video"} ready.`;
        this.#scrollWhenLoaded(view);
      }
      this.#scrollToEnd();
      void this.#refreshBudget();
    } catch (error) {
      view.showError(describeError(error));
    }
  }

  async #edit(image: ShownImage): Promise<void> {
    try {
      const edit = await this.#editor.edit(image);
      if (edit === undefined) return;
      const body = { ...edit, request_id: `web-${crypto.randomUUID()}`, chat_id: this.#chatId };
      await this.#submitJob("image", "/image/edit", body, `Edit: ${edit.prompt}`, edit.prompt);
    } catch (error) {
      this.#showError(error);
    }
  }

  #append(view: MessageView): MessageView {
    this.#messages.append(view.element);
    this.#scrollToEnd();
    return view;
  }

  #scrollToEnd(): void {
    this.#log.scrollTop = this.#log.scrollHeight;
  }

  /** Media get their height only once loaded: keep the newest in view then too. */
  #scrollWhenLoaded(view: MessageView): void {
    for (const media of view.element.querySelectorAll("img, video")) {
      media.addEventListener(media instanceof HTMLVideoElement ? "loadedmetadata" : "load", () => this.#scrollToEnd(), {
        once: true,
      });
    }
  }

  #showError(error: unknown): void {
    console.error(error);
    this.#error.textContent = describeError(error);
  }
}
