import type { Citation } from "../../functions/src/contract/chat-events.ts";
import type { MediaImage } from "../../functions/src/contract/resources.ts";
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
    const order = ["sources", "progress", "media", "model", "note"];
    const after = [...this.#extras.children].find(
      (child) => order.indexOf((child as HTMLElement).dataset.slot ?? "") > order.indexOf(slot),
    );
    this.#extras.insertBefore(node, after ?? null);
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
