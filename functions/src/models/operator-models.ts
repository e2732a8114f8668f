import type { TextModelEntry } from "./model-entry.ts";

/**
 * The text models an operator serves behind an OpenAI-compatible endpoint (Ollama, vLLM, OpenRouter, ...),
 * named in `OPENAI_COMPATIBLE_MODELS`. Nothing public describes them, so their entries say what the wire format
 * guarantees (streamed text, and reasoning text when the server sends it) and what the operator declares: which
 * of them take images (`vision`).
 */
export function openAiCompatibleModels(
  ids: readonly string[],
  vision: readonly string[],
  read: string,
): TextModelEntry[] {
  return ids.map((id) => ({
    id,
    label: id,
    kind: "text",
    provider: "openai-compatible",
    lifecycle: "stable",
    read,
    sources: [{ url: "OPENAI_COMPATIBLE_MODELS", published: "undated", official: false }],
    note: "Configured by the operator; served by OPENAI_COMPATIBLE_BASE_URL.",
    capabilities: {
      thinkingLevels: [],
      thoughtSummaries: true,
      grounding: false,
      functionCalling: false,
      imageInput: vision.includes(id),
    },
  }));
}
