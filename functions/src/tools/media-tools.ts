import { z } from "zod";
import type { BlobStore } from "../blobs/blob-store.ts";
import type { DocumentDatabase } from "../database/document-database.ts";
import type { JobService } from "../jobs/job-service.ts";
import type { JobSubmission } from "../contract/resources.ts";
import { queries } from "../store/queries.ts";
import type { MessageRecord } from "../store/records.ts";
import type { ChatTool, ToolApproval, ToolContext, ToolOutcome } from "./chat-tool.ts";
import { toolFailure } from "./tool-registry.ts";

/**
 * The tools that make pictures and videos. Each creates the same job, chat messages and limits as its route
 * (`POST /image/generate`, `/image/edit`, `/video/generate`), except the user's message (the chat holds the
 * ask already: only the picture's or video's own message is added), under a request id made of the message and the
 * call: a call repeated (a retried delivery, an approval answered twice) finds the job it already made instead
 * of making another. The model is told the job is queued; the picture or video appears in the chat as its own
 * message when the job ends.
 */

/** How far back `edit_image` looks for "the last picture" of the chat. */
const RECENT_MESSAGES = 50;

const ASPECT_RATIOS = ["1:1", "3:4", "4:3", "9:16", "16:9"] as const;

/** The request id of a tool's job: one per message and call, within the contract's request id rule. */
export function toolRequestId(context: Pick<ToolContext, "messageId" | "callId">): string {
  return `tool:${context.messageId}:${context.callId}`;
}

function queued(what: string, submission: JobSubmission): ToolOutcome {
  return {
    ok: true,
    jobId: submission.job_id,
    summary: `${what} job queued`,
    response: {
      ok: true,
      job_id: submission.job_id,
      status: submission.status,
      note: `The ${what.toLowerCase()} appears in the chat as its own message when it is ready; do not describe it as done.`,
    },
  };
}

const generateImageParameters = z.object({
  prompt: z.string().min(1).describe("What to draw, in detail"),
  aspect_ratio: z.enum(ASPECT_RATIOS).optional().describe("Shape of the picture; square when absent"),
  count: z.number().int().min(1).max(4).optional().describe("How many pictures (1 when absent)"),
});

const editImageParameters = z.object({
  prompt: z.string().min(1).describe("What to change in the picture"),
  message_id: z
    .string()
    .optional()
    .describe("The chat message holding the picture to change; the chat's most recent picture when absent"),
});

const generateVideoParameters = z.object({
  prompt: z.string().min(1).describe("What happens in the video, in detail"),
  duration_seconds: z
    .number()
    .int()
    .min(1)
    .max(60)
    .optional()
    .describe("Length in seconds; the model's default when absent"),
  aspect_ratio: z.enum(["16:9", "9:16"]).optional(),
});

interface MediaToolDependencies {
  readonly jobs: JobService;
  readonly database: DocumentDatabase;
  readonly blobs: BlobStore;
  /** Which tools wait for the user's approval (`generate_video` by default: the slow and costly one). */
  readonly approval: Readonly<Record<"generate_image" | "edit_image" | "generate_video", ToolApproval>>;
}

export function mediaTools(dependencies: MediaToolDependencies): ChatTool[] {
  const { jobs, database, blobs, approval } = dependencies;

  const generateImage: ChatTool<z.infer<typeof generateImageParameters>> = {
    name: "generate_image",
    description: "Draws new pictures from a description. Use it when the user asks for a picture, drawing or painting.",
    parameters: generateImageParameters,
    approval: approval.generate_image,
    async run(input, context) {
      const submission = await jobs.submitImage(
        context.user,
        { ...input, chat_id: context.chatId, request_id: toolRequestId(context) },
        "tool",
      );
      return queued("Image", submission);
    },
  };

  const editImage: ChatTool<z.infer<typeof editImageParameters>> = {
    name: "edit_image",
    description:
      "Changes a picture already in this chat (the most recent one unless a message id is given), as described.",
    parameters: editImageParameters,
    approval: approval.edit_image,
    async run(input, context) {
      const source = await pictureInChat(database, context, input.message_id);
      if (source === undefined) {
        return toolFailure(
          input.message_id === undefined
            ? "There is no finished picture in this chat to edit."
            : `Message ${input.message_id} holds no finished picture of this chat.`,
        );
      }
      const blob = await blobs.get(source.path);
      if (blob === null) return toolFailure("That picture is no longer stored.");
      const submission = await jobs.submitImageEdit(
        context.user,
        {
          prompt: input.prompt,
          chat_id: context.chatId,
          request_id: toolRequestId(context),
          image: { data: blob.bytes.toString("base64"), mime_type: source.mime_type },
        },
        "tool",
      );
      return queued("Edit", submission);
    },
  };

  const generateVideo: ChatTool<z.infer<typeof generateVideoParameters>> = {
    name: "generate_video",
    description: "Makes a short video from a description. Use it when the user asks for a video, clip or animation.",
    parameters: generateVideoParameters,
    approval: approval.generate_video,
    async run(input, context) {
      const submission = await jobs.submitVideo(
        context.user,
        { ...input, chat_id: context.chatId, request_id: toolRequestId(context) },
        "tool",
      );
      return queued("Video", submission);
    },
  };

  return [generateImage, editImage, generateVideo] as ChatTool[];
}

/** The first picture of a finished image message of this chat: the one named, or the most recent one. */
async function pictureInChat(
  database: DocumentDatabase,
  context: ToolContext,
  messageId: string | undefined,
): Promise<{ readonly path: string; readonly mime_type: string } | undefined> {
  const recent = await database.query<MessageRecord>(
    queries.recentChatMessages(context.user.uid, context.chatId, Number.MAX_SAFE_INTEGER, RECENT_MESSAGES),
  );
  const found = recent.find(
    ({ data }) =>
      data.type === "image" &&
      data.status === "done" &&
      (data.images?.length ?? 0) > 0 &&
      (messageId === undefined || data.message_id === messageId),
  );
  return found?.data.images?.[0];
}
