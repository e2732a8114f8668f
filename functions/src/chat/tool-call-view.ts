import type { ToolCallEvent, ToolResultEvent } from "../contract/chat-events.ts";
import type { ToolCallView } from "../contract/resources.ts";
import type { ToolCallRecord } from "../store/records.ts";

type JsonObject = Readonly<Record<string, unknown>>;

/** The arguments a stored call was made with. */
export function argumentsOf(call: Pick<ToolCallRecord, "arguments_json">): JsonObject {
  return JSON.parse(call.arguments_json) as JsonObject;
}

/** What the model was told a stored call came to; undefined while it has no result. */
export function responseOf(call: Pick<ToolCallRecord, "response_json">): JsonObject | undefined {
  return call.response_json === undefined ? undefined : (JSON.parse(call.response_json) as JsonObject);
}

/** The `tool_call` event of a stored call (and the `approval_required` one of a call that waits). */
export function toolCallEventOf(call: ToolCallRecord): ToolCallEvent {
  return { call_id: call.call_id, name: call.name, arguments: argumentsOf(call) };
}

/** The `tool_result` event of a call that has its result (live, replayed and after an approval alike). */
export function toolResultOf(call: ToolCallRecord): ToolResultEvent {
  return {
    call_id: call.call_id,
    ok: call.ok === true,
    ...(call.summary === undefined ? {} : { summary: call.summary }),
    ...(call.job_id === undefined ? {} : { job_id: call.job_id }),
    ...(call.error === undefined ? {} : { error: call.error }),
  };
}

/** A stored call as clients see it: without the provider's id and signature, or what the model was told. */
export function toolCallView(call: ToolCallRecord): ToolCallView {
  return {
    ...toolCallEventOf(call),
    status: call.status,
    ...(call.ok === undefined ? {} : { ok: call.ok }),
    ...(call.summary === undefined ? {} : { summary: call.summary }),
    ...(call.job_id === undefined ? {} : { job_id: call.job_id }),
    ...(call.error === undefined ? {} : { error: call.error }),
  };
}
