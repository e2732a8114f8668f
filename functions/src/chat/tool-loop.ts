import type { ModelChoice } from "../models/model-choices.ts";
import type { TextModelEntry } from "../models/model-entry.ts";
import type { TextModelEvent, TextModels, TextRequest } from "../models/text-models.ts";
import type { ConversationTurn, TextUsage, ToolCallRequest } from "../providers/text-provider.ts";
import type { ToolCallRecord } from "../store/records.ts";
import { argumentsOf, responseOf } from "./tool-call-view.ts";
import type { ToolContext, ToolOutcome } from "../tools/chat-tool.ts";
import { toolFailure, type ToolRegistry } from "../tools/tool-registry.ts";

/**
 * The model and its tools, taking turns: the model answers (text streams out as it comes); when it calls tools
 * the loop runs them, in order, and asks the model again with their results, until the model answers in words
 * alone or `maxSteps` rounds of tools have run. A call whose tool needs the user's approval, and was not
 * approved yet, ends the loop with `approval_required`: the answer waits, and a later request continues it from
 * its stored calls (`earlier`), rebuilding the model's history exactly, signatures included.
 *
 * After the first round the model that answered is kept (no fallback switches models mid-answer: a Gemini 3
 * history of calls is only valid for the model that made it).
 */

/** A call the model made in this answer, named ours (`call-1`, `call-2`, ... within the message). */
export interface NewToolCall {
  readonly call_id: string;
  readonly name: string;
  readonly arguments: Readonly<Record<string, unknown>>;
  readonly step: number;
  readonly provider_call_id?: string;
  readonly signature?: string;
}

export type AnswerEvent =
  | Exclude<TextModelEvent, { readonly type: "tool_call" }>
  /** The calls of one round, as the model made them: recorded at the content's current length. */
  | { readonly type: "tool_calls"; readonly calls: readonly NewToolCall[] }
  | { readonly type: "tool_result"; readonly callId: string; readonly outcome: ToolOutcome }
  /** The loop stops here until the user approves or declines this call. */
  | { readonly type: "approval_required"; readonly callId: string };

export interface ToolLoopInput {
  readonly text: TextModels;
  readonly choice: ModelChoice<"text">;
  readonly request: Omit<TextRequest, "contents" | "signal" | "tools">;
  /** The conversation up to and including the user's message. */
  readonly contents: readonly ConversationTurn[];
  /** Absent or empty: the model answers in words alone. */
  readonly tools?: ToolRegistry;
  readonly maxSteps: number;
  readonly context: Omit<ToolContext, "callId" | "signal" | "nextSourceIndex">;
  /** Web sources the answer already has (a grounded request's): a search's sources are numbered after them. */
  readonly sourceCount?: number;
  /** Tokens the answer used before it paused for approval: the total goes on from there. */
  readonly usageSoFar?: TextUsage;
  /**
   * Asked before every model call after the answer's first (a round after tool calls, or a continuation):
   * reserves that call's cost against the user's budget; false ends the answer there with a sentence saying so.
   */
  readonly affordRound?: (model: TextModelEntry, contents: readonly ConversationTurn[]) => Promise<boolean>;
  /** Continuing a waiting answer: its content so far and its stored calls (the last round's perhaps unanswered). */
  readonly earlier?: { readonly content: string; readonly calls: readonly ToolCallRecord[] };
}

/** Calls run per round; a model asking for more is told so for the rest (each call still gets its reply). */
export const MAX_CALLS_PER_ROUND = 8;

/** The sentence an answer ends with when the user's budget does not cover another round. */
export const BUDGET_SENTENCE = "\n\nI stopped here: your monthly budget does not cover another step of this answer.";

/** The sentence an answer ends with when the model still wants tools after `maxSteps` rounds. */
export function stepLimitSentence(maxSteps: number): string {
  return `\n\nI stopped here: this answer reached its limit of ${maxSteps} rounds of tool calls.`;
}

function addUsage(total: TextUsage | undefined, more: TextUsage | undefined): TextUsage | undefined {
  if (more === undefined) return total;
  if (total === undefined) return more;
  const sum = (a: number | undefined, b: number | undefined) =>
    a === undefined && b === undefined ? undefined : (a ?? 0) + (b ?? 0);
  const thinkingTokens = sum(total.thinkingTokens, more.thinkingTokens);
  const cachedTokens = sum(total.cachedTokens, more.cachedTokens);
  return {
    inputTokens: total.inputTokens + more.inputTokens,
    outputTokens: total.outputTokens + more.outputTokens,
    ...(thinkingTokens === undefined ? {} : { thinkingTokens }),
    ...(cachedTokens === undefined ? {} : { cachedTokens }),
  };
}

/** The model's turn of one round as it was made: its words and its calls, with their signatures. */
function modelTurn(text: string, calls: readonly NewToolCall[]): ConversationTurn {
  return {
    role: "model",
    text,
    toolCalls: calls.map((call): ToolCallRequest => ({
      ...(call.provider_call_id === undefined ? {} : { id: call.provider_call_id }),
      name: call.name,
      arguments: call.arguments,
      ...(call.signature === undefined ? {} : { signature: call.signature }),
    })),
  };
}

function toolTurn(
  calls: readonly NewToolCall[],
  responses: readonly Readonly<Record<string, unknown>>[],
): ConversationTurn {
  return {
    role: "tool",
    text: "",
    toolResults: calls.map((call, index) => ({
      ...(call.provider_call_id === undefined ? {} : { id: call.provider_call_id }),
      name: call.name,
      response: responses[index] ?? {},
    })),
  };
}

export async function* toolLoop(input: ToolLoopInput, signal: AbortSignal): AsyncGenerator<AnswerEvent> {
  const { tools } = input;
  const declarations = tools === undefined || tools.size === 0 ? undefined : tools.declarations();
  const contents = [...input.contents];
  let choice = input.choice;
  let step = 0;
  let callNumber = 0;
  let usage: TextUsage | undefined = input.usageSoFar;
  let announced = false;
  let sources = input.sourceCount ?? 0;
  /** Whether the answer's text so far ends mid-line: a later round's words then start a new paragraph. */
  let endsInText = /\S$/.test(input.earlier?.content ?? "");

  /** Runs a round's calls in order (reusing the results some already have); false when one waits for approval. */
  async function* runCalls(
    calls: readonly (NewToolCall & {
      readonly approved?: boolean;
      readonly response?: Readonly<Record<string, unknown>>;
    })[],
    responses: Readonly<Record<string, unknown>>[],
  ): AsyncGenerator<AnswerEvent, boolean> {
    for (const [position, call] of calls.entries()) {
      if (position >= MAX_CALLS_PER_ROUND && call.response === undefined) {
        const outcome = toolFailure(`Too many calls at once: at most ${String(MAX_CALLS_PER_ROUND)} per round.`);
        yield { type: "tool_result", callId: call.call_id, outcome };
        responses.push(outcome.response);
        continue;
      }
      if (call.response !== undefined) {
        responses.push(call.response);
        continue;
      }
      if (tools?.approvalOf(call.name) === "always" && call.approved !== true) {
        // What the answer used so far is kept with the question, and counted on when it continues.
        if (usage !== undefined) yield { type: "finish", finishReason: "APPROVAL_REQUIRED", usage };
        yield { type: "approval_required", callId: call.call_id };
        return false;
      }
      const outcome = tools
        ? await tools.run(call.name, call.arguments, {
            ...input.context,
            callId: call.call_id,
            signal,
            nextSourceIndex: sources + 1,
          })
        : { ok: false, error: "Tools are off.", response: { ok: false, error: "Tools are off." } };
      sources += outcome.sources?.length ?? 0;
      yield { type: "tool_result", callId: call.call_id, outcome };
      responses.push(outcome.response);
    }
    return true;
  }

  if (input.earlier !== undefined && input.earlier.calls.length > 0) {
    const { content, calls } = input.earlier;
    callNumber = calls.length;
    const rounds = [...new Set(calls.map((call) => call.step))].sort((a, b) => a - b);
    let from = 0;
    for (const round of rounds) {
      const roundCalls = calls
        .filter((call) => call.step === round)
        .map(({ arguments_json: _json, response_json: _reply, ...call }) => {
          const response = responseOf({ response_json: _reply });
          return {
            ...call,
            arguments: argumentsOf({ arguments_json: _json }),
            ...(response === undefined ? {} : { response }),
          };
        });
      const offset = roundCalls[0]?.offset ?? from;
      contents.push(modelTurn(content.slice(from, offset), roundCalls));
      from = offset;
      const responses: Readonly<Record<string, unknown>>[] = [];
      if (!(yield* runCalls(roundCalls, responses))) return;
      contents.push(toolTurn(roundCalls, responses));
      step = round + 1;
    }
  }

  for (;;) {
    if (step > 0 && input.affordRound !== undefined && !(await input.affordRound(choice.model, contents))) {
      yield { type: "text", text: BUDGET_SENTENCE };
      yield { type: "finish", finishReason: "BUDGET_LIMIT", ...(usage === undefined ? {} : { usage }) };
      return;
    }
    const calls: ToolCallRequest[] = [];
    let words = "";
    let finish: Extract<TextModelEvent, { type: "finish" }> | undefined;
    for await (const event of input.text.stream(choice, {
      ...input.request,
      contents,
      ...(declarations === undefined ? {} : { tools: declarations }),
      signal,
    })) {
      if (event.type === "tool_call") calls.push(event.call);
      else if (event.type === "finish") finish = event;
      else if (event.type === "answering") {
        // Later rounds stay with the model that answered the first.
        const answered = [choice.model, ...choice.chain].find((entry) => entry.id === event.model);
        if (answered !== undefined) choice = { model: answered, chain: [] };
        if (!announced) yield event;
        announced = true;
      } else {
        if (event.type === "text" && event.text !== "") {
          if (words === "" && endsInText) yield { type: "text", text: "\n\n" };
          words += event.text;
          endsInText = /\S$/.test(event.text);
        }
        yield event;
      }
    }
    usage = addUsage(usage, finish?.usage);
    const finished = { type: "finish", finishReason: finish?.finishReason ?? "STOP" } as const;
    if (calls.length === 0) {
      yield {
        ...finished,
        ...(usage === undefined ? {} : { usage }),
        ...(finish?.modelVersion === undefined ? {} : { modelVersion: finish.modelVersion }),
      };
      return;
    }
    // What the answer used so far, after every round: a stop midway is charged for the rounds it ran.
    if (usage !== undefined) yield { type: "finish", finishReason: "TOOL_CALLS", usage };
    if (step >= input.maxSteps) {
      yield { type: "text", text: stepLimitSentence(input.maxSteps) };
      yield { ...finished, finishReason: "TOOL_STEP_LIMIT", ...(usage === undefined ? {} : { usage }) };
      return;
    }
    const round: NewToolCall[] = calls.map((call) => ({
      call_id: `call-${String(++callNumber)}`,
      name: call.name,
      arguments: call.arguments,
      step,
      ...(call.id === undefined ? {} : { provider_call_id: call.id }),
      ...(call.signature === undefined ? {} : { signature: call.signature }),
    }));
    yield { type: "tool_calls", calls: round };
    const responses: Readonly<Record<string, unknown>>[] = [];
    if (!(yield* runCalls(round, responses))) return;
    contents.push(modelTurn(words, round), toolTurn(round, responses));
    step += 1;
  }
}
