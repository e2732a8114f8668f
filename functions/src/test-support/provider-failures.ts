import assert from "node:assert/strict";
import { ProviderError } from "../providers/provider-error.ts";
import type { TextStreamEvent } from "../providers/text-provider.ts";

/** The ProviderError a provider call fails with; also checks that the error's message never holds `secret`. */
export async function providerFailure(promise: Promise<unknown>, secret: string): Promise<ProviderError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ProviderError, `expected a ProviderError, got ${String(error)}`);
    assert.ok(!error.message.includes(secret), "the key never appears in an error");
    return error;
  }
  throw new Error("expected the call to fail");
}

/** Every event of a text stream that ends normally. */
export async function streamEvents(events: AsyncIterable<TextStreamEvent>): Promise<TextStreamEvent[]> {
  const received: TextStreamEvent[] = [];
  for await (const event of events) received.push(event);
  return received;
}

/** The ProviderError a text stream fails with, and the text it delivered before. */
export async function streamFailure(
  events: AsyncIterable<TextStreamEvent>,
  secret: string,
): Promise<{ error: ProviderError; text: string }> {
  let text = "";
  const error = await providerFailure(
    (async () => {
      for await (const event of events) if (event.type === "text") text += event.text;
    })(),
    secret,
  );
  return { error, text };
}
