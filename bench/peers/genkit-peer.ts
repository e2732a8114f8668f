import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import type { IncomingMessage, ServerResponse } from "node:http";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { TextProvider } from "../../functions/src/providers/text-provider.ts";

/**
 * Genkit, the Firebase-native peer: a streaming flow over a Genkit model that emits the simulated provider's
 * tokens, served by `@genkit-ai/express` as Genkit documents serving flows (SSE, one `{"message": chunk}` per
 * chunk, then `{"result": text}`). Genkit is not one of the project's own packages: it lives in
 * `bench/peers/genkit` (its own lockfile) and is installed there the first time the bench needs it, without
 * its optional Firebase telemetry plugin.
 */
const folder = fileURLToPath(new URL("./genkit/", import.meta.url));

/** Installs the peer's packages from its lockfile if they are not there yet. */
export function installGenkitPeer(): void {
  if (existsSync(`${folder}node_modules/genkit/package.json`)) return;
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const installed = spawnSync(npm, ["ci", "--omit=optional", "--no-audit", "--no-fund"], {
    cwd: folder,
    stdio: "inherit",
  });
  if (installed.status !== 0) throw new Error("Could not install the Genkit peer (bench/peers/genkit).");
}

/** Imports one of the peer's packages from its own folder. */
async function load<T>(name: string): Promise<T> {
  const resolved = createRequire(`${folder}package.json`).resolve(name);
  return (await import(pathToFileURL(resolved).href)) as T;
}

interface GenkitModule {
  genkit: (options: object) => {
    defineModel(
      options: object,
      runner: (request: unknown, context: { sendChunk: (chunk: object) => void }) => Promise<object>,
    ): unknown;
    defineFlow(
      options: object,
      run: (input: { message: string }, context: { sendChunk: (chunk: string) => void }) => Promise<string>,
    ): unknown;
    generateStream(options: { model: unknown; prompt: string }): {
      stream: AsyncIterable<{ text: string }>;
      response: Promise<{ text: string }>;
    };
  };
  z: {
    object: (shape: object) => unknown;
    string: () => unknown;
  };
}

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/** The flow on an Express app, as a request handler for `node:http`. */
export async function genkitHandler(provider: TextProvider): Promise<Handler> {
  const { genkit, z } = await load<GenkitModule>("genkit");
  const { expressHandler } = await load<{ expressHandler: (flow: unknown) => unknown }>("@genkit-ai/express");
  const express = (await load<{ default: (() => ExpressApp) & { json: () => unknown } }>("express")).default;
  const ai = genkit({});
  const model = ai.defineModel(
    { name: "bench/simulated", apiVersion: "v2", supports: { multiturn: true } },
    async (_request, { sendChunk }) => {
      let text = "";
      for await (const event of provider.stream({
        model: "m",
        systemInstruction: "",
        contents: [{ role: "user", text: "hi" }],
        signal: new AbortController().signal,
      })) {
        if (event.type !== "text") continue;
        text += event.text;
        sendChunk({ content: [{ text: event.text }] });
      }
      return { message: { role: "model", content: [{ text }] }, finishReason: "stop" };
    },
  );
  const flow = ai.defineFlow(
    {
      name: "chat",
      inputSchema: z.object({ message: z.string() }),
      streamSchema: z.string(),
      outputSchema: z.string(),
    },
    async (input, { sendChunk }) => {
      const { stream, response } = ai.generateStream({ model, prompt: input.message });
      for await (const chunk of stream) sendChunk(chunk.text);
      return (await response).text;
    },
  );
  const app = express();
  app.use(express.json());
  app.post("/chat", expressHandler(flow));
  return (request, response) => {
    app(request, response);
  };
}

type ExpressApp = ((request: IncomingMessage, response: ServerResponse) => void) & {
  use(handler: unknown): void;
  post(path: string, handler: unknown): void;
};
