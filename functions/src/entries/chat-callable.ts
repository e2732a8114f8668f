import type { CallableRequest, CallableResponse } from "firebase-functions/v2/https";
import { AppError } from "../errors/app-error.ts";
import { toCallableError } from "../errors/error-mapping.ts";
import { processServices } from "../runtime/process-services.ts";
import { CallableSink, type ChatChunk } from "../callable/callable-sink.ts";

type FunctionsErrorCode = ConstructorParameters<typeof import("firebase-functions/v2/https").HttpsError>[0];

/**
 * The streaming callable `chat`: the same chat service as `POST /chat/stream` (validation, limits,
 * idempotency, persistence), for frontends on the Firebase SDK. Errors are `HttpsError`s whose `details.code`
 * is the contract's error code. The caller is authorized as the HTTP API authorizes it (the same function: ID
 * tokens with revocation and App Check, or a service API key with the `chat` scope).
 */
export async function handleChatCallable(
  request: CallableRequest<unknown>,
  response: CallableResponse<ChatChunk> | undefined,
): Promise<Record<string, unknown>> {
  const { HttpsError } = await import("firebase-functions/v2/https");
  const fail = (error: unknown): never => {
    const mapped = toCallableError(error);
    throw new HttpsError(mapped.code as FunctionsErrorCode, mapped.message, mapped.details);
  };
  try {
    const services = await processServices().catch((error: unknown) => {
      throw new AppError("unavailable", "The service is not configured correctly. Operators: see the logs.", {
        cause: error,
      });
    });
    const headers = request.rawRequest.headers;
    const user = await services.callers.authorize(
      {
        authorization: headers.authorization,
        apiKey: typeof headers["x-api-key"] === "string" ? headers["x-api-key"] : undefined,
        // The callable runtime has verified the App Check token already: `request.app` is its verdict.
        appCheck: { verified: request.app !== undefined },
        where: "callable:chat",
      },
      "chat",
    );
    const startedAt = Date.now();
    // The rate limit and the stream slot are checks in the turn's start transaction: a refusal writes nothing.
    const { started: prepared, slot } = await services.streamAdmission.admit(user.uid, (admissions) =>
      services.chat.begin(user, request.data, startedAt, admissions),
    );
    const sink = new CallableSink(response, request.acceptsStreaming);
    const release = services.connections.acquire();
    try {
      await services.chat.stream(prepared, sink);
      await sink.flushed();
    } finally {
      release();
      await slot.release();
    }
    const terminal = sink.terminal;
    if (terminal?.event === "error") throw new AppError(terminal.data.code, terminal.data.message);
    return sink.result();
  } catch (error) {
    return fail(error);
  }
}
