import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadRuntimeConfig, type RuntimeConfig } from "../config/runtime-config.ts";
import { createApi } from "../runtime/api.ts";
import type { RequestHandler } from "../http/request-context.ts";
import { createServices, type ServiceOptions, type Services } from "../runtime/services.ts";
import { authEmulator, TEST_PROJECT_ID } from "./auth-emulator.ts";

/**
 * The real `api` handler on a loopback `node:http` server (as the Functions Framework would serve it), in
 * embedded mode over a fresh temporary data folder, with every log line captured for assertions.
 */
export interface ApiServer {
  readonly url: string;
  readonly services: Services;
  readonly config: RuntimeConfig;
  readonly logLines: string[];
  /** Parsed log entries. */
  logs(): Record<string, unknown>[];
  close(): Promise<void>;
}

export async function startApiServer(
  environment: Record<string, string> = {},
  options: ServiceOptions = {},
): Promise<ApiServer> {
  await authEmulator();
  const directory = mkdtempSync(join(tmpdir(), "atelier-api-"));
  // The server must listen before the services exist (their media URLs need its address).
  const ready: { handler?: RequestHandler } = {};
  const server: Server = createServer((request, response) => {
    if (ready.handler === undefined) response.writeHead(503).end();
    else void ready.handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (typeof address !== "object" || address === null) throw new Error("server has no address");
  const url = `http://127.0.0.1:${address.port}`;
  const config = loadRuntimeConfig({
    FIREBASE_PROJECT_ID: TEST_PROJECT_ID,
    DATA_BACKEND: "embedded",
    EMBEDDED_DATA_DIR: join(directory, "data"),
    PUBLIC_API_URL: url,
    SIMULATED_TOKEN_DELAY_MS: "0",
    SIMULATED_JOB_DELAY_MS: "0",
    ...environment,
  });
  const logLines: string[] = [];
  const services = await createServices(config, { ...options, logSink: (line) => logLines.push(line) });
  ready.handler = createApi(services);
  return {
    url,
    services,
    config,
    logLines,
    logs: () => logLines.map((line) => JSON.parse(line) as Record<string, unknown>),
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await services.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
