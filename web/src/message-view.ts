import type { Citation, ToolCallEvent, ToolResultEvent, Usage } from "../../functions/src/contract/chat-events.ts";
import type { MediaImage, ProviderRun, ToolCallView } from "../../functions/src/contract/resources.ts";
import { element } from "./dom.ts";

/** A picture that is still there to show (and edit). */
export type ShownImage = MediaImage & { readonly url: string };

/**
 * One message in the conversation: its text (with `[n]` citation markers as links to their sources), a Sources
 * list, generated media, job progress, and notes or errors in plain words. The list it lives in is the page's
 * live region; an answer is marked `aria-busy` while it streams, so screen readers read it once it is complete
 * rather than word by word.
 */

/** `[1]`, `[2][3]` (two matches) and `[1, 2]`, as the grounding instructions ask the model to write them. */
const MARKER = /\[(\d+(?:\s*,\s*\d+)*)\]/g;

export class MessageView {
  readonly element: HTMLLIElement;
  readonly #text: HTMLDivElement;
  readonly #extras: HTMLDivElement;
  #thinking: { readonly block: HTMLDetailsElement; readonly text: HTMLParagraphElement } | undefined;
  #content = "";
  #citations: readonly Citation[] = [];
  readonly #calls = new Map<string, ToolCallView>();

  private constructor(role: "user" | "assistant") {
    this.#text = element("div", { class: "text" });
    this.#extras = element("div", { class: "extras" });
    this.element = element(
      "li",
      { class: `message ${role}` },
      element("p", { class: "author" }, role === "user" ? "You" : "Atelier"),
      this.#text,
      this.#extras,
    );
  }

  static user(text: string): MessageView {
    const view = new MessageView("user");
    view.showText(text);
    return view;
  }

  static assistant(): MessageView {
    return new MessageView("assistant");
  }

  /** The model the request asked for (from the stream's `meta`). */
  askedModel: string | undefined;

  set messageId(id: string) {
    this.element.dataset.messageId = id;
  }

  set busy(busy: boolean) {
    this.element.setAttribute("aria-busy", String(busy));
    this.element.classList.toggle("streaming", busy);
  }

  /** The model's thought summary, folded away above the answer. */
  showThinking(text: string): void {
    if (text === "") return;
    if (this.#thinking === undefined) {
      const paragraph = element("p", { class: "thinking-text" });
      const block = element("details", { class: "thinking" }, element("summary", {}, "Thinking"), paragraph);
      this.element.insertBefore(block, this.#text);
      this.#thinking = { block, text: paragraph };
    }
    this.#thinking.text.textContent = text;
  }

  /** What the answer or job cost, with what it used in the tooltip; a simulation's cost is labelled as such. */
  showCost(usage: Usage | undefined, provider: ProviderRun | undefined): void {
    if (usage === undefined) return;
    const used = [
      `${String(usage.input_tokens)} tokens in`,
      `${String(usage.output_tokens + (usage.thinking_tokens ?? 0))} out`,
      ...(usage.images === undefined ? [] : [`${String(usage.images)} pictures`]),
      ...(usage.video_seconds === undefined ? [] : [`${String(usage.video_seconds)} s of video`]),
      ...(usage.search_queries === undefined ? [] : [`${String(usage.search_queries)} web searches`]),
    ].join(", ");
    const label = `${formatUsd(usage.cost_usd)}${provider === "simulated" ? " (simulated)" : ""}`;
    this.#replace("cost", element("p", { class: "cost", title: used }, `Cost: ${label}`));
  }

  /** Says so when another model answered than the one asked for. */
  showFallback(model: string | undefined, fallbackFrom: string | undefined): void {
    if (model === undefined || fallbackFrom === undefined) return;
    this.#replace("model", element("p", { class: "note" }, `Answered by ${model}: ${fallbackFrom} was unavailable.`));
  }

  showText(content: string): void {
    this.#content = content;
    this.#text.replaceChildren(...withCitationLinks(content, this.#citations));
  }

  /** Shows the Sources list and turns the answer's markers into links to them. */
  showSources(citations: readonly Citation[]): void {
    this.#citations = citations;
    this.#replace(
      "sources",
      citations.length === 0
        ? undefined
        : element(
            "section",
            { class: "sources", "aria-label": "Sources" },
            element("h3", {}, "Sources"),
            element(
              "ol",
              {},
              ...citations.map((citation) =>
                element(
                  "li",
                  { value: citation.index },
                  element("a", { href: citation.url, target: "_blank", rel: "noopener noreferrer" }, citation.title),
                  " ",
                  element("span", { class: "domain" }, hostOf(citation.url)),
                ),
              ),
            ),
          ),
    );
    this.showText(this.#content);
  }

  /** A job's progress (0..1) while it is queued or running. */
  showProgress(what: "image" | "video", fraction: number): void {
    const percent = Math.round(Math.min(1, Math.max(0, fraction)) * 100);
    const label = `Generating ${what}… ${String(percent)}%`;
    this.#replace(
      "progress",
      element(
        "p",
        { class: "progress" },
        element("progress", { max: 100, value: percent, "aria-label": `Generating ${what}` }),
        " ",
        element("span", {}, label),
      ),
    );
  }

  showImages(images: readonly MediaImage[], description: string, edit?: (image: ShownImage) => void): void {
    this.#replace("progress", undefined);
    this.#replace(
      "media",
      element(
        "div",
        { class: "media" },
        ...images.map(({ url, ...image }) =>
          url === undefined
            ? // The stored picture is gone (`media_missing`): say so rather than show a broken image.
              element("figure", { class: "missing" }, "This image is no longer available.")
            : element(
                "figure",
                {},
                // The list shows the small WebP (kilobytes, not megabytes); the full picture opens from it.
                element(
                  "a",
                  { href: url, target: "_blank", rel: "noopener noreferrer" },
                  element("img", {
                    src: image.thumbnail_url ?? url,
                    alt: `Generated image: ${description}`,
                    width: image.width,
                    height: image.height,
                  }),
                ),
                ...(edit === undefined ? [] : [editButton(() => edit({ ...image, url }))]),
              ),
        ),
      ),
    );
  }

  /** A player for a finished video; its poster frame shows until it plays. */
  showVideo(video: { readonly url: string; readonly poster?: string | undefined }, description: string): void {
    this.#replace("progress", undefined);
    this.#replace(
      "media",
      element(
        "div",
        { class: "media" },
        element("video", {
          src: video.url,
          ...(video.poster === undefined ? {} : { poster: video.poster }),
          controls: true,
          preload: "metadata",
          "aria-label": `Video: ${description}`,
        }),
      ),
    );
  }

  /** A tool the model just called (again from a replay: the same `call_id` is shown once). */
  toolCall(call: ToolCallEvent): void {
    if (!this.#calls.has(call.call_id)) this.#calls.set(call.call_id, { ...call, status: "running" });
    this.showToolCalls([...this.#calls.values()]);
  }

  /** What a call came to. */
  toolResult(result: ToolResultEvent): void {
    const call = this.#calls.get(result.call_id);
    if (call === undefined) return;
    const status = result.ok ? "done" : call.status === "declined" ? "declined" : "error";
    this.#calls.set(result.call_id, { ...call, ...result, status });
    this.showToolCalls([...this.#calls.values()]);
  }

  /** The jobs the answer's tools started (their pictures and videos appear as messages of their own). */
  get toolJobs(): string[] {
    return [...this.#calls.values()].flatMap((call) => (call.job_id === undefined ? [] : [call.job_id]));
  }

  /** The tools the answer called, each with what it came to once known. */
  showToolCalls(calls: readonly ToolCallView[]): void {
    for (const call of calls) this.#calls.set(call.call_id, call);
    if (calls.length === 0) return this.#replace("tools", undefined);
    this.#replace(
      "tools",
      element(
        "ul",
        { class: "tools", "aria-label": "Tools used" },
        ...calls.map((call) =>
          element(
            "li",
            { class: `tool ${call.status}` },
            element("span", { class: "tool-name" }, TOOL_LABELS[call.name] ?? call.name),
            " ",
            element("span", { class: "tool-status" }, toolStatusText(call)),
          ),
        ),
      ),
    );
  }

  /** A call waiting for the user's yes or no: what it would do, and the two buttons. */
  askApproval(call: ToolCallEvent, answer: (approved: boolean) => void): void {
    this.#calls.set(call.call_id, { ...call, ...this.#calls.get(call.call_id), status: "awaiting_approval" });
    this.showToolCalls([...this.#calls.values()]);
    const prompt = typeof call.arguments.prompt === "string" ? call.arguments.prompt : JSON.stringify(call.arguments);
    const approve = element("button", { type: "button", class: "approve" }, "Approve");
    const decline = element("button", { type: "button", class: "decline secondary" }, "Decline");
    const box = element(
      "div",
      { class: "approval", role: "group", "aria-label": "Approval needed" },
      element("p", {}, `Atelier wants to ${TOOL_ACTIONS[call.name] ?? `run ${call.name}`}: “${prompt}”`),
      approve,
      decline,
    );
    const choose = (approved: boolean) => {
      approve.disabled = decline.disabled = true;
      this.#replace("approval", undefined);
      const asked = this.#calls.get(call.call_id);
      if (asked !== undefined) this.#calls.set(call.call_id, { ...asked, status: approved ? "running" : "declined" });
      this.showToolCalls([...this.#calls.values()]);
      answer(approved);
    };
    approve.addEventListener("click", () => choose(true));
    decline.addEventListener("click", () => choose(false));
    this.#replace("approval", box);
  }

  /** A neutral remark, such as "Stopped." */
  showNote(text: string): void {
    this.#replace("note", element("p", { class: "note" }, text));
  }

  showError(text: string): void {
    this.#replace("progress", undefined);
    this.#replace("note", element("p", { class: "message-error" }, text));
  }

  /** Puts `node` in the extras slot called `slot` (replacing what was there), or empties the slot. */
  #replace(slot: string, node: HTMLElement | undefined): void {
    this.#extras.querySelector(`[data-slot="${slot}"]`)?.remove();
    if (node === undefined) return;
    node.dataset.slot = slot;
    const order = ["sources", "tools", "progress", "media", "model", "cost", "approval", "note"];
    const after = [...this.#extras.children].find(
      (child) => order.indexOf((child as HTMLElement).dataset.slot ?? "") > order.indexOf(slot),
    );
    this.#extras.insertBefore(node, after ?? null);
  }
}

/** Dollars as a price: cents when it is that much, else the first significant fractions of a cent. */
export function formatUsd(usd: number): string {
  if (usd === 0) return "$0";
  if (usd >= 0.01) return `$${usd.toFixed(2)}`;
  return `$${usd.toPrecision(2).replace(/0+$/, "")}`;
}

/** What each built-in tool is called in the list of tools an answer used. */
const TOOL_LABELS: Readonly<Record<string, string>> = {
  generate_image: "Drawing a picture",
  edit_image: "Editing a picture",
  generate_video: "Making a video",
  web_search: "Searching the web",
};

/** What each built-in tool would do, for the approval question. */
const TOOL_ACTIONS: Readonly<Record<string, string>> = {
  generate_image: "draw a picture",
  edit_image: "edit a picture",
  generate_video: "make a video",
  web_search: "search the web",
};

function toolStatusText(call: ToolCallView): string {
  switch (call.status) {
    case "running":
      return "…";
    case "awaiting_approval":
      return "waiting for your approval";
    case "declined":
      return "declined";
    case "done":
      return call.job_id === undefined ? "done" : "started: it appears below when ready";
    case "error":
      return `failed: ${call.error ?? "the tool did not work"}`;
  }
}

function editButton(onClick: () => void): HTMLButtonElement {
  const button = element("button", { type: "button", class: "edit-image" }, "Edit image");
  button.addEventListener("click", onClick);
  return button;
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return "";
  }
}

/** The text with each citation marker that names a known source replaced by links to that source. */
function withCitationLinks(content: string, citations: readonly Citation[]): (Node | string)[] {
  if (citations.length === 0) return [content];
  const byIndex = new Map(citations.map((citation) => [citation.index, citation]));
  const parts: (Node | string)[] = [];
  let last = 0;
  for (const match of content.matchAll(MARKER)) {
    const numbers = (match[1] ?? "").split(",").map((number) => Number(number.trim()));
    if (!numbers.every((number) => byIndex.has(number))) continue;
    parts.push(content.slice(last, match.index));
    parts.push("[");
    numbers.forEach((number, position) => {
      const citation = byIndex.get(number);
      if (citation === undefined) return;
      if (position > 0) parts.push(", ");
      parts.push(
        element(
          "a",
          {
            class: "citation",
            href: citation.url,
            target: "_blank",
            rel: "noopener noreferrer",
            title: citation.title,
            "aria-label": `Source ${String(number)}: ${citation.title}`,
          },
          String(number),
        ),
      );
    });
    parts.push("]");
    last = match.index + match[0].length;
  }
  parts.push(content.slice(last));
  return parts;
}
