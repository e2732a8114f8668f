/**
 * Checks citation markers as the answer streams, so what the client is sent and what is stored are the same
 * text. A marker is `[n]` or a list `[n, m]` outside code; each number must name one of the `sourceCount`
 * sources. Numbers that do not are removed (a list keeps its valid numbers; a marker with none left goes), and
 * counted in `removed`. The space before a removed marker goes too when punctuation or a line end follows, and
 * stands in for the space after it otherwise, so "a [9]." becomes "a." and "a [9] b" becomes "a b".
 * `used` collects the numbers the answer really cites.
 *
 * It works character by character and holds back only what it cannot decide yet (an open `[`, a run of
 * spaces before one, a run of backticks), so any split of the text into chunks gives the same result.
 * Backtick runs open and close code (one or two: inline spans; three or more: fences); nothing inside code is
 * touched.
 */
const MAX_MARKER_LENGTH = 24;

export class CitationFilter {
  readonly used = new Set<number>();
  removed = 0;
  #sourceCount: number;
  #output = "";
  #whitespace = "";
  #marker = "";
  #ticks = 0;
  #codeFence = 0;
  /** A marker was just removed: the held space belongs to whatever comes next, if anything. */
  #afterRemoval = false;

  constructor(sourceCount: number) {
    this.#sourceCount = sourceCount;
  }

  /** More sources arrived mid-answer (a web search the model made): markers up to `sourceCount` are now valid. */
  extend(sourceCount: number): void {
    this.#sourceCount = Math.max(this.#sourceCount, sourceCount);
  }

  push(text: string): string {
    this.#output = "";
    for (const character of text) this.#consume(character);
    return this.#output;
  }

  flush(): string {
    this.#output = "";
    if (this.#ticks > 0) this.#resolveTicks();
    if (this.#afterRemoval && this.#marker === "") this.#whitespace = "";
    this.#output += this.#whitespace + this.#marker;
    this.#whitespace = "";
    this.#marker = "";
    return this.#output;
  }

  #consume(character: string): void {
    if (character === "`") {
      if (this.#marker !== "") this.#releaseMarker();
      this.#ticks += 1;
      return;
    }
    if (this.#ticks > 0) this.#resolveTicks();
    if (this.#codeFence > 0) {
      this.#output += character;
      return;
    }
    if (this.#marker !== "") {
      if (/[0-9, ]/.test(character) && this.#marker.length < MAX_MARKER_LENGTH) {
        this.#marker += character;
        return;
      }
      if (character === "]") {
        this.#completeMarker();
        return;
      }
      this.#releaseMarker();
    }
    if (character === " " || character === "\t") {
      if (!(this.#afterRemoval && this.#whitespace !== "")) this.#whitespace += character;
      return;
    }
    if (character === "[") {
      this.#marker = "[";
      return;
    }
    if (this.#afterRemoval && /[.,;:!?)\n]/.test(character)) this.#whitespace = "";
    this.#afterRemoval = false;
    this.#output += this.#whitespace + character;
    this.#whitespace = "";
  }

  /** Not a marker after all: the held text goes out as it was. */
  #releaseMarker(): void {
    this.#output += this.#whitespace + this.#marker;
    this.#whitespace = "";
    this.#marker = "";
    this.#afterRemoval = false;
  }

  #resolveTicks(): void {
    const run = this.#ticks;
    this.#ticks = 0;
    if (this.#codeFence === 0) {
      this.#output += this.#whitespace;
      this.#whitespace = "";
      this.#codeFence = run;
    } else if (run === this.#codeFence || (run >= 3 && this.#codeFence >= 3 && run >= this.#codeFence)) {
      this.#codeFence = 0;
    }
    this.#output += "`".repeat(run);
  }

  #completeMarker(): void {
    const body = this.#marker.slice(1);
    const parts = body.split(",").map((part) => part.trim());
    if (body.trim() === "" || !parts.every((part) => /^\d+$/.test(part))) {
      this.#marker += "]";
      this.#releaseMarker();
      return;
    }
    const numbers = parts.map(Number);
    const valid = numbers.filter((number) => number >= 1 && number <= this.#sourceCount);
    for (const number of valid) this.used.add(number);
    this.removed += numbers.length - valid.length;
    this.#marker = "";
    if (valid.length === 0) {
      this.#afterRemoval = true;
      return;
    }
    const kept = valid.length === numbers.length ? body : valid.join(body.includes(", ") ? ", " : ",");
    this.#output += `${this.#whitespace}[${kept}]`;
    this.#whitespace = "";
    this.#afterRemoval = false;
  }
}
