import assert from "node:assert/strict";
import { z } from "zod";
import { AppError } from "../errors/app-error.ts";
import { Logger } from "../logging/logger.ts";
import type { ChatTool, ToolContext } from "./chat-tool.ts";
import { ToolRegistry } from "./tool-registry.ts";

/** A tool for these tests: it echoes its argument, or fails as its argument says. */
const echo: ChatTool<{ word: string; times?: number | undefined }> = {
  name: "echo",
  description: "Says the word back.",
  parameters: z.object({ word: z.string().min(1), times: z.number().int().min(1).optional() }),
  approval: "never",
  run(input) {
    if (input.word === "refuse") return Promise.reject(new AppError("resource_exhausted", "Too many echoes today."));
    if (input.word === "crash") return Promise.reject(new Error("socket hang up at 10.0.0.7 with key sk-secret"));
    const said = input.word.repeat(input.times ?? 1);
    return Promise.resolve({ ok: true, summary: said, response: { ok: true, said } });
  },
};

describe("the tool registry", () => {
  const lines: Record<string, unknown>[] = [];
  const registry = new ToolRegistry(
    [echo],
    new Logger({ sink: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) }),
  );
  const context = (signal = new AbortController().signal): ToolContext => ({
    user: { uid: "u1", tier: "free", admin: false } as unknown as ToolContext["user"],
    chatId: "chat-1",
    messageId: "msg-1",
    callId: "call-1",
    signal,
    nextSourceIndex: 1,
  });

  it("tells the model each tool's arguments as JSON Schema", () => {
    const [declaration] = registry.declarations();
    assert.equal(declaration?.name, "echo");
    assert.deepEqual(declaration.parameters, {
      type: "object",
      properties: {
        word: { type: "string", minLength: 1 },
        times: { type: "integer", minimum: 1, maximum: 9007199254740991 },
      },
      required: ["word"],
    });
  });

  it("runs a call with valid arguments", async () => {
    assert.deepEqual(await registry.run("echo", { word: "ha", times: 2 }, context()), {
      ok: true,
      summary: "haha",
      response: { ok: true, said: "haha" },
    });
  });

  it("answers an unknown tool or arguments that fail the schema with a failure the model can read", async () => {
    assert.deepEqual(await registry.run("shout", { word: "x" }, context()), {
      ok: false,
      error: 'There is no tool called "shout".',
      response: { ok: false, error: 'There is no tool called "shout".' },
    });
    const invalid = await registry.run("echo", { word: "", times: 1.5 }, context());
    assert.equal(invalid.ok, false);
    assert.match(String(invalid.error), /^Invalid arguments for echo: word: .+; times: .+/);
  });

  it("passes a refusal's own words to the model, but never a failure's internals", async () => {
    assert.equal((await registry.run("echo", { word: "refuse" }, context())).error, "Too many echoes today.");
    const crashed = await registry.run("echo", { word: "crash" }, context());
    assert.equal(crashed.error, "The echo tool failed.");
    assert.ok(!JSON.stringify(crashed).includes("sk-secret"));
  });

  it("logs each call by name, outcome and time, never its arguments", async () => {
    lines.length = 0;
    await registry.run("echo", { word: "confidential" }, context());
    assert.deepEqual(
      lines.map((line) => [line.message, line.tool, line.ok]),
      [["tool_call", "echo", true]],
    );
    assert.ok(!JSON.stringify(lines).includes("confidential"));
  });
});
