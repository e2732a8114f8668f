import { AppError } from "../errors/app-error.ts";
import { toHttpErrorResponse } from "../errors/error-mapping.ts";
import { processServices } from "../runtime/process-services.ts";
import { chooseRequestId } from "../http/api-handler.ts";
import { createApi } from "../runtime/api.ts";
import type { IncomingRequest, RequestHandler } from "../http/request-context.ts";
import type { ServerResponse } from "node:http";
import { applySecurityHeaders } from "../http/response-headers.ts";

let handler: Promise<RequestHandler> | undefined;

/** What the `api` Cloud Function runs: the process's API handler, or a clean 503 when it cannot start. */
export async function handleApiRequest(request: IncomingRequest, response: ServerResponse): Promise<void> {
  let api: RequestHandler;
  try {
    handler ??= processServices().then(createApi);
    api = await handler;
  } catch (error) {
    handler = undefined;
    const requestId = chooseRequestId(request.headers["x-request-id"]);
    applySecurityHeaders(response, requestId);
    const { status, body } = toHttpErrorResponse(
      new AppError("unavailable", "The service is not configured correctly. Operators: see the logs.", {
        cause: error,
      }),
      requestId,
    );
    response.writeHead(status, { "Content-Type": "application/json; charset=utf-8" }).end(JSON.stringify(body));
    return;
  }
  await api(request, response);
}
