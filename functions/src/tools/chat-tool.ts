import type { z } from "zod";
import type { AuthenticatedUser } from "../auth/id-token-verifier.ts";
import type { GroundingResult } from "../contract/resources.ts";

/** `always`: the call waits for the user's yes or no (`approval_required`); `never`: it runs at once. */
export type ToolApproval = "never" | "always";

/** Who asked, and where: what a tool needs to act for the user in the chat the model is answering in. */
export interface ToolContext {
  readonly user: AuthenticatedUser;
  readonly chatId: string;
  readonly messageId: string;
  /** The call's id: a tool's side effect is keyed by message and call, so a repeated call changes nothing. */
  readonly callId: string;
  /** Aborted when the answer is stopped: a tool still running gives up at once. */
  readonly signal: AbortSignal;
  /** The number the answer's next web source gets (sources are numbered across the whole answer, from 1). */
  readonly nextSourceIndex: number;
  /** Reserves one web search against the user's budget; false when it does not fit (the search is refused). */
  readonly reserveSearch?: () => Promise<boolean>;
}

/** What a tool did: `response` is what the model reads; the rest is what the client sees in `tool_result`. */
export interface ToolOutcome {
  readonly ok: boolean;
  readonly summary?: string;
  readonly jobId?: string;
  readonly error?: string;
  readonly response: Readonly<Record<string, unknown>>;
  /** Web sources the answer may now cite, numbered from the context's `nextSourceIndex`. */
  readonly sources?: readonly GroundingSource[];
  /** Web searches the call made (priced on the answer's receipt). */
  readonly searchQueries?: number;
}

/** A web source found by a tool: a search result and the `[n]` the answer cites it with. */
export interface GroundingSource extends GroundingResult {
  readonly index: number;
}

/** A tool the chat model may call: its arguments' schema (sent to the model as JSON Schema) and its action. */
export interface ChatTool<Arguments = unknown> {
  readonly name: string;
  readonly description: string;
  readonly parameters: z.ZodType<Arguments>;
  /** The arguments' JSON Schema as the model is told it, when the tool was declared in JSON Schema itself. */
  readonly declaredParameters?: Readonly<Record<string, unknown>>;
  readonly approval: ToolApproval;
  run(input: Arguments, context: ToolContext): Promise<ToolOutcome>;
}
