import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AuthenticatedUser } from "../auth/id-token-verifier.ts";
import { FileBlobStore } from "../blobs/file-blob-store.ts";
import { noTelemetry } from "../telemetry/telemetry.ts";
import { AnswerCost } from "../chat/answer-cost.ts";
import { Pricing } from "../models/pricing.ts";
import { ActiveStreams } from "../chat/active-streams.ts";
import { ChatService, type ChatOptions } from "../chat/chat-service.ts";
import { loadRuntimeConfig } from "../config/runtime-config.ts";
import { openSqliteDocumentDatabase } from "../database/sqlite-document-database.ts";
import { Grounder } from "../grounding/grounder.ts";
import { Logger } from "../logging/logger.ts";
import { TextModels } from "../models/text-models.ts";
import { GeminiTextProvider } from "../providers/google/gemini-text-provider.ts";
import { SimulatedSearchProvider } from "../providers/simulated/simulated-search-provider.ts";
import { modelChoices } from "../runtime/services.ts";
import { CountingDatabase } from "./counting-database.ts";
import type { ProviderWireServer } from "./provider-wire-server.ts";
import { RecordingSink } from "./recording-sink.ts";

/**
 * The chat core in this process, as the composition root builds it, minus HTTP: the real `ChatService` on the
 * embedded store (SQLite and media files in a temporary folder), the real Gemini adapter against a local Gemini
 * wire-format server, the labelled simulated web search, and {@link RecordingSink}s for clients. No emulator, no
 * server of ours, no ID tokens: callers are plain {@link AuthenticatedUser}s.
 */

/** Chat options for tests: short intervals, so liveness, grace and staleness play out within a second. */
export const TEST_CHAT_OPTIONS: ChatOptions = {
  limits: {
    maxMessageChars: 2_000,
    maxAttachments: 4,
    maxPromptChars: 4_000,
    imageMaxCount: 4,
    videoMaxDurationSeconds: 8,
  },
  quotas: { monthly: { free: 0, paid: 0 }, budgets: { free: 0, paid: 0 }, groundingPerHour: 20 },
  attachmentLimits: { maxBytes: 4_000, maxDimension: 4_096 },
  requestRetentionDays: 7,
  context: { maxMessages: 20, maxCharacters: 24_000 },
  systemInstruction: "You are Atelier, under test.",
  tools: { maxSteps: 3, approvalTimeoutMs: 60_000 },
  timing: {
    updateIntervalMs: 100,
    // alive_at is renewed every third of this: 333 ms.
    staleMs: 1_000,
    graceMs: 500,
    attachTimeoutMs: 500,
  },
};

const GEMINI_KEY = "AIzaFakeKeyForChatCoreTests";

/** A signed-in caller of the free tier. */
export function testUser(uid: string): AuthenticatedUser {
  return { uid, admin: false, tier: undefined };
}

/** A fresh temporary folder for one suite's data; {@link removeDirectory} it afterwards. */
export function temporaryDirectory(prefix = "atelier-core-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDirectory(directory: string): void {
  rmSync(directory, { recursive: true, force: true });
}

interface ChatCoreSetup {
  /** The data folder; two cores on one folder are two instances sharing their data. */
  readonly directory: string;
  readonly gemini: ProviderWireServer;
  readonly options?: ChatOptions;
  readonly now?: () => number;
}

export interface ChatCore {
  readonly chat: ChatService;
  /** The store, counting the writes made to each document. */
  readonly database: CountingDatabase;
  readonly blobs: FileBlobStore;
  /** The streams this "instance" is generating. */
  readonly activeStreams: ActiveStreams;
  readonly options: ChatOptions;
  readonly logLines: string[];
  /** Starts a turn for `user` as `POST /chat/stream` does, and streams it into a new sink (not awaited). */
  ask(user: AuthenticatedUser, body: unknown, resumeFrom?: number): Promise<Answer>;
  close(): Promise<void>;
}

/** A turn being streamed to a client. */
interface Answer {
  readonly sink: RecordingSink;
  /** Settles when the service is done with the stream (the answer ended, or was handed to a follower). */
  readonly streamed: Promise<void>;
  /** The message the turn answers with. */
  readonly messageId: string;
  readonly chatId: string;
}

export async function openChatCore(setup: ChatCoreSetup): Promise<ChatCore> {
  const options = setup.options ?? TEST_CHAT_OPTIONS;
  const now = setup.now ?? Date.now;
  const logLines: string[] = [];
  const logger = new Logger({ sink: (line) => logLines.push(line) });
  const database = new CountingDatabase(await openSqliteDocumentDatabase(join(setup.directory, "atelier.db")));
  const blobs = await FileBlobStore.open({
    root: join(setup.directory, "media"),
    baseUrl: "http://127.0.0.1:1/api",
    urlTtlSeconds: 3_600,
  });
  const config = loadRuntimeConfig({ GEMINI_API_KEY: GEMINI_KEY, GEMINI_ENDPOINT: setup.gemini.url });
  const activeStreams = new ActiveStreams();
  const chat = new ChatService({
    database,
    blobs,
    text: new TextModels({
      choices: modelChoices(config),
      providers: {
        // Retries as in production, backing off by milliseconds rather than seconds.
        gemini: new GeminiTextProvider({
          apiKey: GEMINI_KEY,
          baseUrl: setup.gemini.url,
          timeoutMs: 5_000,
          retryBaseMs: 20,
        }),
      },
      thinkingLevel: "low",
      maxOutputTokens: config.settings.MAX_OUTPUT_TOKENS,
      logger,
      telemetry: noTelemetry(),
    }),
    grounder: new Grounder(new SimulatedSearchProvider(), { depth: "advanced", maxResults: 5 }),
    cost: new AnswerCost(new Pricing(config.prices), "advanced"),
    telemetry: noTelemetry(),
    logger,
    activeStreams,
    options,
    now,
  });
  return {
    chat,
    database,
    blobs,
    activeStreams,
    options,
    logLines,
    ask: async (user, body, resumeFrom = 0) => {
      const prepared = await chat.begin(user, body, now());
      const sink = new RecordingSink();
      const streamed = chat.stream(prepared, sink, resumeFrom);
      return { sink, streamed, messageId: prepared.message.message_id, chatId: prepared.message.chat_id };
    },
    close: async () => {
      await database.close();
    },
  };
}
