/**
 * A fresh Cloud Functions instance, as far as one process can show it: imports the built entry with
 * `FUNCTION_TARGET` set (or bare firebase-functions with `COLD_START_KIND=bare`), then serves the function on
 * `node:http`, adding the one Express method the firebase-functions wrapper uses (`req.header`). Prints
 * `listening <url>` once the import is done.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

type Handler = (request: IncomingMessage, response: ServerResponse) => unknown;

const imported = performance.now();
let handler: Handler;
if (process.env.COLD_START_KIND === "bare") {
  // firebase-functions lives in the functions package, not at the repository root: import it by path.
  const https = (await import(
    new URL("../functions/node_modules/firebase-functions/lib/v2/providers/https.js", import.meta.url).href
  )) as {
    onRequest: (handler: (request: IncomingMessage, response: ServerResponse) => void) => Handler;
  };
  handler = https.onRequest((_request, response) => {
    response.writeHead(200, { "Content-Type": "application/json" }).end('{"ok":true}');
  });
} else {
  const entry = (await import(new URL("../functions/lib/index.js", import.meta.url).href)) as { api: Handler };
  handler = entry.api;
}
const importMs = performance.now() - imported;
const server = createServer((request, response) => {
  const withHeader = Object.assign(request, {
    header: (name: string) => request.headers[name.toLowerCase()],
    path: (request.url ?? "/").split("?")[0],
  });
  void handler(withHeader, response);
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  if (typeof address === "object" && address !== null) {
    process.stdout.write(`listening http://127.0.0.1:${String(address.port)} import_ms=${importMs.toFixed(1)}\n`);
  }
});
