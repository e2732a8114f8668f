/**
 * The `api` function in a process of its own, served the way the Functions Framework serves it: the real
 * handler (`handleApiRequest`) behind `node:http`, and on SIGTERM `server.close()` then exit once the last
 * connection ends. Prints `listening <url>` when ready. Tests use it to send real signals.
 */
import { createServer } from "node:http";
import { handleApiRequest } from "../entries/api-entry.ts";
import { processServices } from "../runtime/process-services.ts";

await processServices();
const server = createServer((request, response) => void handleApiRequest(request, response));
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  if (typeof address === "object" && address !== null)
    process.stdout.write(`listening http://127.0.0.1:${String(address.port)}\n`);
});
process.on("SIGTERM", () => {
  server.close(() => process.exit(0));
});
