import assert from "node:assert/strict";
import type { DocumentDatabase } from "../database/document-database.ts";
import { beginGeneration } from "../store/begin-generation.ts";
import type { JobRecord } from "../store/records.ts";
import type { JobKind, ProviderRun } from "../contract/resources.ts";

interface SeededJob {
  readonly uid: string;
  readonly requestId: string;
  readonly kind: JobKind;
  readonly prompt: string;
  readonly provider: ProviderRun;
  /** The job's model (the kind's default when absent) and the fallbacks fixed at submission. */
  readonly model?: string;
  readonly fallbackModels?: readonly string[];
  /** More input fields, as a submission records them. */
  readonly input?: Readonly<Record<string, unknown>>;
}

/**
 * A queued job with its chat, messages and request mapping, written as a submission writes them (one
 * `beginGeneration` transaction, no quota checks), for tests that drive workers and triggers directly.
 */
export async function seedJob(database: DocumentDatabase, seeded: SeededJob): Promise<JobRecord> {
  const { uid, requestId, kind, prompt, provider } = seeded;
  const now = new Date();
  const model = seeded.model ?? (kind === "video" ? "veo-3.1-generate-preview" : "gemini-nano-banana-2.1");
  const start = await beginGeneration(database, {
    uid,
    requestId,
    kind,
    payloadHash: requestId,
    chatId: undefined,
    title: "t",
    userMessage: { content: prompt },
    assistantMessage: { type: kind === "video" ? "video" : "image", status: "pending", model, provider },
    job: {
      idPrefix: kind === "video" ? "videojob" : "job",
      build: ({ jobId, chatId, messageId }) => ({
        job_id: jobId,
        kind,
        chat_id: chatId,
        message_id: messageId,
        request_id: requestId,
        status: "queued",
        prompt,
        model,
        provider,
        input: { count: 1, fallback_models: seeded.fallbackModels ?? [], ...seeded.input },
        attempts: 0,
        abandon_at: new Date(now.getTime() + 3_600_000),
        created_at: now,
        updated_at: now,
      }),
    },
    checks: [],
    now,
    requestRetentionDays: 1,
  });
  assert.ok(start.created && start.job !== undefined);
  return start.job;
}
