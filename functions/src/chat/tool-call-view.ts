import type { ToolResultEvent } from "../contract/chat-events.ts";
import type { ToolCallView } from "../contract/resources.ts";
import type { ToolCallRecord } from "../store/records.ts";

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
    call_id: call.call_id,
    name: call.name,
    arguments: call.arguments,
    status: call.status,
    ...(call.ok === undefined ? {} : { ok: call.ok }),
    ...(call.summary === undefined ? {} : { summary: call.summary }),
    ...(call.job_id === undefined ? {} : { job_id: call.job_id }),
    ...(call.error === undefined ? {} : { error: call.error }),
  };
}
