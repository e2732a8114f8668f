import type { ImageEditBody } from "../../functions/src/contract/request-bodies.ts";
import { byId } from "./dom.ts";
import type { ShownImage } from "./message-view.ts";

/**
 * The image-edit dialog: the image with a canvas over it on which the user paints the part to change. The mask
 * sent to POST /image/edit is a PNG of the image's own size, white where painted and black elsewhere (the
 * contract's convention). Without paint no mask is sent and the whole image may change, which is also the
 * keyboard path: painting needs a pointer, describing the change does not.
 */

/** What the editor hands back: the part of a `POST /image/edit` body the user made. */
export type ImageEdit = Pick<ImageEditBody, "prompt" | "image" | "mask">;

/** The brush diameter as a share of the image's longer side. */
const BRUSH_SHARE = 0.06;

export class MaskEditor {
  readonly #dialog = byId("editor", HTMLDialogElement);
  readonly #form = byId("editor-form", HTMLFormElement);
  readonly #image = byId("editor-image", HTMLImageElement);
  readonly #canvas = byId("editor-mask", HTMLCanvasElement);
  readonly #prompt = byId("editor-prompt", HTMLInputElement);
  #painted = false;
  #last: { x: number; y: number } | undefined;

  constructor() {
    this.#canvas.addEventListener("pointerdown", (event) => {
      this.#canvas.setPointerCapture(event.pointerId);
      this.#last = undefined;
      this.#paint(event);
    });
    this.#canvas.addEventListener("pointermove", (event) => {
      if (event.buttons !== 0) this.#paint(event);
    });
    this.#canvas.addEventListener("pointerup", () => (this.#last = undefined));
    byId("editor-clear", HTMLButtonElement).addEventListener("click", () => this.#clear());
    byId("editor-cancel", HTMLButtonElement).addEventListener("click", () => this.#dialog.close());
  }

  /** Shows the dialog for `image`; resolves with the edit to send, or undefined if the user cancelled. */
  async edit(image: ShownImage): Promise<ImageEdit | undefined> {
    this.#image.src = image.url;
    this.#prompt.value = "";
    await this.#image.decode();
    this.#canvas.width = this.#image.naturalWidth;
    this.#canvas.height = this.#image.naturalHeight;
    this.#clear();
    this.#dialog.showModal();
    this.#prompt.focus();
    const prompt = await new Promise<string | undefined>((resolve) => {
      const submit = (event: SubmitEvent) => {
        event.preventDefault();
        resolve(this.#prompt.value.trim());
        this.#dialog.close();
      };
      this.#form.addEventListener("submit", submit);
      this.#dialog.addEventListener(
        "close",
        () => {
          this.#form.removeEventListener("submit", submit);
          resolve(undefined);
        },
        { once: true },
      );
    });
    if (prompt === undefined || prompt === "") return undefined;
    const original = await fetch(image.url).then((response) => response.blob());
    return {
      prompt,
      image: { data: await base64(original), mime_type: original.type === "" ? image.mime_type : original.type },
      ...(this.#painted ? { mask: { data: await base64(await this.#maskPng()), mime_type: "image/png" } } : {}),
    };
  }

  #context(): CanvasRenderingContext2D {
    const context = this.#canvas.getContext("2d");
    if (context === null) throw new Error("no 2D canvas");
    return context;
  }

  #clear(): void {
    this.#context().clearRect(0, 0, this.#canvas.width, this.#canvas.height);
    this.#painted = false;
  }

  #paint(event: PointerEvent): void {
    const bounds = this.#canvas.getBoundingClientRect();
    const point = {
      x: ((event.clientX - bounds.left) / bounds.width) * this.#canvas.width,
      y: ((event.clientY - bounds.top) / bounds.height) * this.#canvas.height,
    };
    const context = this.#context();
    context.strokeStyle = "#ff3b30";
    context.lineCap = "round";
    context.lineJoin = "round";
    context.lineWidth = Math.max(this.#canvas.width, this.#canvas.height) * BRUSH_SHARE;
    context.beginPath();
    const from = this.#last ?? point;
    context.moveTo(from.x, from.y);
    context.lineTo(point.x, point.y);
    context.stroke();
    this.#last = point;
    this.#painted = true;
  }

  /** The painted strokes as the contract's mask: opaque white where painted, opaque black elsewhere. */
  async #maskPng(): Promise<Blob> {
    const { width, height } = this.#canvas;
    const pixels = this.#context().getImageData(0, 0, width, height);
    for (let offset = 0; offset < pixels.data.length; offset += 4) {
      const value = (pixels.data[offset + 3] ?? 0) > 0 ? 255 : 0;
      pixels.data.set([value, value, value, 255], offset);
    }
    const mask = document.createElement("canvas");
    mask.width = width;
    mask.height = height;
    mask.getContext("2d")?.putImageData(pixels, 0, 0);
    return new Promise((resolve, reject) =>
      mask.toBlob((blob) => (blob === null ? reject(new Error("PNG encoding failed")) : resolve(blob)), "image/png"),
    );
  }
}

/** A blob's bytes as base64 (what the API's inline images carry), without the data-URL prefix. */
function base64(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(typeof reader.result === "string" ? reader.result.replace(/^data:[^,]*,/, "") : "");
    reader.onerror = () => reject(reader.error ?? new Error("could not read the image"));
    reader.readAsDataURL(blob);
  });
}
