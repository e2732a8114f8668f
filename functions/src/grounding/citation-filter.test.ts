import assert from "node:assert/strict";
import { CitationFilter } from "./citation-filter.ts";

/** Runs text through a filter for `sources` sources, in the given chunks. */
function check(chunks: readonly string[], sources: number) {
  const filter = new CitationFilter(sources);
  const text = chunks.map((chunk) => filter.push(chunk)).join("") + filter.flush();
  return { text, used: [...filter.used].sort((a, b) => a - b), removed: filter.removed };
}

describe("CitationFilter", () => {
  it("keeps markers that name a source and records them as used", () => {
    assert.deepEqual(check(["Paris is the capital [1]. It is large [2]."], 3), {
      text: "Paris is the capital [1]. It is large [2].",
      used: [1, 2],
      removed: 0,
    });
  });

  it("removes a marker beyond the sources, and counts it, without leaving stray spaces", () => {
    assert.deepEqual(check(["A claim [7]. Another [2]."], 5), { text: "A claim. Another [2].", used: [2], removed: 1 });
    assert.deepEqual(check(["A claim [7] and more [8]"], 5), { text: "A claim and more", used: [], removed: 2 });
    assert.deepEqual(check(["Line [9]\nnext"], 5), { text: "Line\nnext", used: [], removed: 1 });
  });

  it("reads [10] as ten, not as [1] followed by 0", () => {
    assert.deepEqual(check(["See [10]."], 10), { text: "See [10].", used: [10], removed: 0 });
    assert.deepEqual(check(["See [10]."], 5), { text: "See.", used: [], removed: 1 });
  });

  it("checks adjacent markers one by one", () => {
    assert.deepEqual(check(["Both agree [1][2][9]."], 2), { text: "Both agree [1][2].", used: [1, 2], removed: 1 });
    assert.deepEqual(check(["Both agree [9][2]."], 2), { text: "Both agree [2].", used: [2], removed: 1 });
  });

  it("keeps the valid numbers of a list and its separator style", () => {
    assert.deepEqual(check(["Several [1, 2, 8] and [3,9]."], 3), {
      text: "Several [1, 2] and [3].",
      used: [1, 2, 3],
      removed: 2,
    });
  });

  it("leaves markers inside inline code and fenced code alone", () => {
    const text = "Use `items[1]` or ``a[7]``.\n```js\nconst x = list[9];\n```\nSource [4].";
    assert.deepEqual(check([text], 3), {
      text: "Use `items[1]` or ``a[7]``.\n```js\nconst x = list[9];\n```\nSource.",
      used: [],
      removed: 1,
    });
  });

  it("leaves links, footnotes, empty brackets and prose in brackets as they are", () => {
    const text = "See [the docs](https://x.y) [^1] [] [a, b] [12 apples].";
    assert.deepEqual(check([text], 2), { text, used: [], removed: 0 });
  });

  it("gives the same result however the text is split into chunks", () => {
    const text = "Alpha [1] beta [12][2], gamma `x[3]` [1, 5] delta [3].\n```\n[2]\n``` end [9]";
    const whole = check([text], 3);
    assert.equal(whole.text, "Alpha [1] beta [2], gamma `x[3]` [1] delta [3].\n```\n[2]\n``` end");
    for (let size = 1; size <= 7; size++) {
      const chunks = text.match(new RegExp(`[\\s\\S]{1,${size}}`, "g")) ?? [];
      assert.deepEqual(check(chunks, 3), whole, `chunks of ${size}`);
    }
  });

  it("gives back an unfinished marker at the end as plain text", () => {
    assert.deepEqual(check(["The end [1"], 3), { text: "The end [1", used: [], removed: 0 });
  });

  it("holds back nothing once a chunk is decided", () => {
    const filter = new CitationFilter(2);
    assert.equal(filter.push("Hello world"), "Hello world");
    assert.equal(filter.push(" and [1"), " and");
    assert.equal(filter.push("] done"), " [1] done");
  });
});
