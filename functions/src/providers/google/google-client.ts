import type { GoogleGenAI } from "@google/genai";

/**
 * The one `@google/genai` client set-up every Google adapter shares (text, image, video): API `v1beta`, the key
 * in a header, an optional base URL (`*_ENDPOINT` settings, proxies, the local wire-format test servers).
 */

export interface GeminiClientOptions {
  readonly apiKey: string;
  /** Base URL override (`GEMINI_ENDPOINT`, `NANO_BANANA_ENDPOINT`, `VEO_ENDPOINT`, or a test server). */
  readonly baseUrl?: string;
  /**
   * Longest wait for one whole request (short calls such as starting or polling a video). Streams leave it unset:
   * they time out on a lack of progress instead, however long the answer.
   */
  readonly requestTimeoutMs?: number;
}

/** Builds an SDK client on first use: the SDK is loaded lazily to keep cold starts light. */
export function lazyGeminiClient(options: GeminiClientOptions): () => Promise<GoogleGenAI> {
  let client: Promise<GoogleGenAI> | undefined;
  return () => {
    client ??= import("@google/genai").then(
      ({ GoogleGenAI }) =>
        new GoogleGenAI({
          apiKey: options.apiKey,
          apiVersion: "v1beta",
          httpOptions: {
            ...(options.baseUrl === undefined ? {} : { baseUrl: options.baseUrl }),
            ...(options.requestTimeoutMs === undefined ? {} : { timeout: options.requestTimeoutMs }),
          },
        }),
    );
    return client;
  };
}
