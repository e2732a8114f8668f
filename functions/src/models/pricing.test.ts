import assert from "node:assert/strict";
import { MODEL_CATALOGUE } from "./catalogue.ts";
import { BUILT_IN_PRICES, modelPriceSchema, searchPriceSchema } from "./price-table.ts";
import { Pricing, withOverrides } from "./pricing.ts";

const pricing = new Pricing(BUILT_IN_PRICES);
const today = new Date("2026-12-02T12:00:00Z");

describe("prices", () => {
  it("has a sourced price, in the table's own schema, for every catalogue model still answering", () => {
    for (const entry of BUILT_IN_PRICES.models) modelPriceSchema.parse(entry);
    for (const entry of BUILT_IN_PRICES.search) searchPriceSchema.parse(entry);
    const answering = MODEL_CATALOGUE.filter((entry) => (entry.shutdownDate ?? "9999") > "2026-12-02");
    assert.deepEqual(pricing.unpriced(answering, today), []);
    for (const entry of BUILT_IN_PRICES.models) {
      assert.match(entry.source.url, /^https:\/\//, entry.model);
      assert.match(entry.source.read, /^\d{4}-\d{2}-\d{2}$/, entry.model);
    }
  });

  it("prices a request by the entry in force on its day (Gemini 3.8 Flash doubles on 2027-01-01)", () => {
    const usage = { inputTokens: 1_000_000, outputTokens: 1_000_000 };
    assert.equal(pricing.text("gemini-3.8-flash", usage, new Date("2026-12-31T23:59:59Z")), 4_500_000);
    assert.equal(pricing.text("gemini-3.8-flash", usage, new Date("2027-01-01T00:00:00Z")), 9_000_000);
  });

  it("bills cached input at its rate and thinking as output, rounding up once per receipt", () => {
    // 6 fresh at $0.75, 24 cached at $0.075, 3 out and 11 thinking at $3.75 per million: 58.8 micro-dollars.
    const cost = pricing.text(
      "gemini-3.8-flash",
      { inputTokens: 30, cachedTokens: 24, outputTokens: 3, thinkingTokens: 11 },
      today,
    );
    assert.equal(cost, 59);
    // Floating-point error never adds a micro-dollar: 1,000 tokens at $0.75 per million is 750 exactly.
    assert.equal(pricing.text("gemini-3.8-flash", { inputTokens: 1_000, outputTokens: 0 }, today), 750);
  });

  it("prices pictures by size, video by the second and resolution, searches by depth", () => {
    assert.equal(pricing.images("gemini-3-pro-image", 2, "4K", today), 480_000);
    // With no size (a reservation), the dearest one.
    assert.equal(pricing.images("gemini-nano-banana-2.1", 1, undefined, today), 113_000);
    assert.equal(pricing.video("veo-3.1-generate-preview", 8, "4k", today), 4_800_000);
    assert.equal(pricing.video("gemini-omni-1.1-flash", 4, "720p", today), 400_000);
    assert.equal(pricing.searches("advanced", 3, today), 48_000);
    assert.equal(pricing.searches("basic", 1, today), 8_000);
  });

  it("costs nothing for a model the table does not price (an operator's own server)", () => {
    assert.equal(pricing.text("llama-local", { inputTokens: 1_000, outputTokens: 1_000 }, today), 0);
    assert.deepEqual(pricing.unpriced([{ id: "llama-local", kind: "text" }], today), ["llama-local"]);
  });

  it("lets the operator's prices replace every built-in price of the models they name", () => {
    const negotiated = withOverrides(BUILT_IN_PRICES, {
      models: [
        {
          model: "gemini-3.8-flash",
          text: { input: 0.5, output: 2 },
          source: { url: "https://example.com/contract", read: "2026-12-01", official: false },
        },
      ],
      search: [],
    });
    const usage = { inputTokens: 1_000_000, outputTokens: 1_000_000 };
    const priced = new Pricing(negotiated);
    assert.equal(priced.text("gemini-3.8-flash", usage, new Date("2027-06-01T00:00:00Z")), 2_500_000);
    assert.equal(priced.searches("advanced", 1, today), 16_000);
    assert.equal(priced.text("gemini-3.5-flash-lite", usage, today), 2_800_000);
  });
});
