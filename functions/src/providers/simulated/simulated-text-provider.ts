import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { ProviderError } from "../provider-error.ts";
import type {
  TextGenerationRequest,
  TextProvider,
  TextStreamEvent,
  ToolCallRequest,
  ToolResultReply,
} from "../text-provider.ts";

/**
 * The offline text provider (labelled `simulated` in /health and on every message it writes). It streams a
 * deterministic answer built from the prompt, word by word at `tokenDelayMs`, cites the numbered sources when
 * there are any (so grounding works offline end to end), and honours the abort signal like the real one.
 *
 * For demos and tests, a prompt containing `simulate:blocked` is refused as a safety block,
 * `simulate:unavailable` fails after the first words, as a provider outage would, `simulate:primary-down` fails
 * before the first word (a 503) unless this call is a fallback, so the answer comes from the next model of the
 * chain, and `simulate:slow` streams at `SLOW_TOKEN_DELAY_MS` per word whatever the configured delay, so a
 * person or a browser test has time to stop the answer or reload the page mid-stream. When thoughts are asked
 * for, a short thought summary streams first, as Gemini's does.
 *
 * Given tools, it acts them out as a model would, deterministically: a message asking to draw, paint or sketch
 * calls `generate_image`, one asking for a video, clip or animation calls `generate_video`, one asking for the
 * latest news calls `web_search` (each after a short sentence saying so, and with a signature, as Gemini 3 sends
 * one); given the tools' replies, it answers from them. `simulate:tool-loop` calls `generate_image` again after
 * every reply, so the loop's step limit shows; `simulate:call <tool> {json}` calls any offered tool (an operator's
 * downstream one) with those arguments.
 */

interface SimulatedTextProviderOptions {
  readonly tokenDelayMs: number;
  /** Emit exactly this many tokens (benchmarks); otherwise the answer's natural length. */
  readonly fixedTokens?: number;
}

/** The per-word delay of a `simulate:slow` answer: long enough to act on mid-stream, short enough for tests. */
export const SLOW_TOKEN_DELAY_MS = 150;

const OPENINGS = ["Here is a thought on", "Let's look at", "A short answer about", "Some notes on"] as const;
const BODY = [
  "The key idea is to start small, check each step, and build on what works.",
  "It helps to name the goal first, then choose the simplest path that reaches it.",
  "A good approach balances clarity with detail, and keeps the reader's purpose in view.",
  "Consider the constraints, sketch a first version, and refine it with feedback.",
] as const;

/** The benchmarks' tokens, cycled: ten shared strings, so a long fixed stream holds no per-token memory. */
const FIXED_TOKENS = Array.from({ length: 10 }, (_, index) => `token${String(index)} `);

function* fixedTokens(count: number): Generator<string> {
  for (let index = 0; index < count; index++) yield FIXED_TOKENS[index % FIXED_TOKENS.length] as string;
}

function words(text: string): string[] {
  return text.split(/(?<=\s)/).filter((word) => word !== "");
}

export function simulatedAnswer(request: Pick<TextGenerationRequest, "contents" | "sources">): string {
  const prompt = request.contents.at(-1)?.text.trim() ?? "";
  const digest = createHash("sha256").update(prompt).digest();
  const pick = <T>(items: readonly T[], byte: number): T => items[(digest[byte] ?? 0) % items.length] as T;
  const topic = prompt.length > 60 ? `${prompt.slice(0, 57).trimEnd()}...` : prompt;
  const sentences = [`${pick(OPENINGS, 0)} "${topic}".`, pick(BODY, 1)];
  const sources = request.sources ?? [];
  sources.slice(0, 3).forEach((source, position) => {
    sentences.push(
      position === 0
        ? `According to ${source.title} [${source.index}], this is well documented.`
        : `${source.title} adds further detail [${source.index}].`,
    );
  });
  if (sources.length > 1) sentences.push(`Both perspectives agree on the essentials [1][2].`);
  sentences.push(pick(BODY, 2));
  return sentences.join(" ");
}

/** The simulated thought summary: what a model might think before answering, in a few words. */
function simulatedThoughts(prompt: string): string {
  const topic = prompt.trim().split(/\s+/).slice(0, 6).join(" ");
  return `**Understanding the request**\nThe user asks about "${topic}". I will answer briefly and clearly.\n`;
}

/** The signature the simulation puts on its calls: opaque, as Gemini's are, and checked when sent back. */
export const SIMULATED_SIGNATURE = Buffer.from("simulated thought").toString("base64");

const TOOL_TRIGGERS: readonly { readonly tool: string; readonly pattern: RegExp; readonly saying: string }[] = [
  { tool: "generate_video", pattern: /\b(video|clip|animate|animation)\b/i, saying: "I'll make that video." },
  { tool: "generate_image", pattern: /\b(draw|paint|sketch)\b/i, saying: "I'll draw that for you." },
  { tool: "web_search", pattern: /\b(latest|news)\b/i, saying: "Let me look that up." },
];

/** The call a model would make for this request, if any: the tool, what it says first, and the arguments. */
function simulatedCall(
  request: TextGenerationRequest,
): { readonly saying: string; readonly call: ToolCallRequest } | undefined {
  const offered = new Set((request.tools ?? []).map((tool) => tool.name));
  const last = request.contents.at(-1);
  if (last === undefined || offered.size === 0) return undefined;
  if (last.role === "tool") {
    if (!request.contents.some((turn) => turn.role === "user" && turn.text.includes("simulate:tool-loop"))) {
      return undefined;
    }
    return offered.has("generate_image")
      ? {
          saying: "",
          call: { name: "generate_image", arguments: { prompt: "another one" }, signature: SIMULATED_SIGNATURE },
        }
      : undefined;
  }
  const prompt = last.text.trim();
  const named = /simulate:call ([a-z][a-z0-9_]*)(?: (\{.*\}))?/.exec(prompt);
  if (named?.[1] !== undefined && offered.has(named[1])) {
    const argument = named[2] === undefined ? {} : (JSON.parse(named[2]) as Record<string, unknown>);
    return { saying: "Let me check.", call: { name: named[1], arguments: argument, signature: SIMULATED_SIGNATURE } };
  }
  for (const trigger of TOOL_TRIGGERS) {
    if (!offered.has(trigger.tool) || !trigger.pattern.test(prompt)) continue;
    const argument = trigger.tool === "web_search" ? { query: prompt } : { prompt };
    return {
      saying: trigger.saying,
      call: { name: trigger.tool, arguments: argument, signature: SIMULATED_SIGNATURE },
    };
  }
  return undefined;
}

/** The answer after the tools replied: what each call came to, in words. */
function answerFromTools(results: readonly ToolResultReply[]): string {
  return results
    .map((result) => {
      const response = result.response;
      if (response.declined === true) return "Understood: I won't do that.";
      if (response.ok !== true) {
        return `That did not work: ${typeof response.error === "string" ? response.error : "the tool failed"}.`;
      }
      if (response.result !== undefined) {
        return `${result.name} answered: ${JSON.stringify(response.result).slice(0, 200)}`;
      }
      if (typeof response.job_id === "string") {
        const what = result.name === "generate_video" ? "video" : "picture";
        return `Your ${what} is on its way; it will appear in this chat when it is ready.`;
      }
      const found = Array.isArray(response.results) ? (response.results as { index?: number; title?: string }[]) : [];
      if (found.length === 0) return "I found nothing on that.";
      return found
        .slice(0, 2)
        .map((item) => `${String(item.title)} [${String(item.index)}] has the details.`)
        .join(" ");
    })
    .join(" ");
}

export class SimulatedTextProvider implements TextProvider {
  readonly run = "simulated" as const;
  readonly #tokenDelayMs: number;
  readonly #fixedTokens: number | undefined;

  constructor(options: SimulatedTextProviderOptions) {
    this.#tokenDelayMs = options.tokenDelayMs;
    this.#fixedTokens = options.fixedTokens;
  }

  async *stream(request: TextGenerationRequest): AsyncGenerator<TextStreamEvent> {
    const prompt = request.contents.at(-1)?.text ?? "";
    if (prompt.includes("simulate:blocked")) {
      throw new ProviderError("gemini", "blocked", "Simulated safety block", { reason: "SAFETY" });
    }
    if (prompt.includes("simulate:primary-down") && request.fallbackFrom === undefined) {
      throw new ProviderError("gemini", "unavailable", "Simulated outage of the first model", { status: 503 });
    }
    // A call made earlier in this answer must come back with its signature intact, as Gemini 3 demands.
    for (const turn of request.contents) {
      for (const call of turn.toolCalls ?? []) {
        if (call.signature !== SIMULATED_SIGNATURE) {
          throw new ProviderError("gemini", "rejected", "Function call is missing a thought_signature", {
            status: 400,
          });
        }
      }
    }
    const acting = simulatedCall(request);
    const last = request.contents.at(-1);
    const answer =
      acting !== undefined
        ? acting.saying
        : last?.role === "tool"
          ? answerFromTools(last.toolResults ?? [])
          : simulatedAnswer(request);
    const tokens = this.#fixedTokens === undefined ? words(answer) : fixedTokens(this.#fixedTokens);
    const tokenDelayMs = prompt.includes("simulate:slow") ? SLOW_TOKEN_DELAY_MS : this.#tokenDelayMs;
    const pause = async () => {
      if (request.signal.aborted) throw new ProviderError("gemini", "aborted", "Cancelled");
      if (tokenDelayMs === 0) return;
      await sleep(tokenDelayMs, undefined, { signal: request.signal }).catch(() => {
        // The rejection is an AbortError; the cause stays what it always was: the abort's reason.
        const reason: unknown = request.signal.reason;
        throw new ProviderError("gemini", "aborted", "Cancelled", {
          cause: reason instanceof Error ? reason : new Error("aborted"),
        });
      });
    };
    let thinkingTokens = 0;
    if (request.includeThoughts === true) {
      for (const thought of words(simulatedThoughts(prompt))) {
        await pause();
        thinkingTokens += 1;
        yield { type: "thinking", text: thought };
      }
    }
    let emitted = 0;
    for (const token of tokens) {
      await pause();
      if (emitted === 3 && prompt.includes("simulate:unavailable")) {
        throw new ProviderError("gemini", "unavailable", "Simulated outage", { status: 503 });
      }
      emitted += 1;
      yield { type: "text", text: token };
    }
    if (acting !== undefined) {
      await pause();
      yield { type: "tool_call", call: acting.call };
    }
    const inputTokens = request.contents.reduce((total, turn) => total + words(turn.text).length, 0);
    yield {
      type: "finish",
      finishReason: "STOP",
      usage: { inputTokens, outputTokens: emitted, ...(thinkingTokens === 0 ? {} : { thinkingTokens }) },
    };
  }
}
