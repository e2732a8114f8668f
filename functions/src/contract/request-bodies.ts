import { z } from "zod";
import { CLIENT_ID_PATTERN, CLIENT_ID_RULE } from "./identifiers.ts";
import { API_KEY_SCOPES } from "./resources.ts";

/** The server's size limits that request bodies are checked against (each from its setting). */
export interface RequestLimits {
  /** `MAX_MESSAGE_CHARS` */
  readonly maxMessageChars: number;
  /** `MAX_ATTACHMENTS` */
  readonly maxAttachments: number;
  /** `MAX_PROMPT_CHARS` */
  readonly maxPromptChars: number;
  /** `IMAGE_MAX_COUNT` */
  readonly imageMaxCount: number;
  /** `VIDEO_MAX_DURATION_SECONDS` */
  readonly videoMaxDurationSeconds: number;
}

/** An id a client sends back to us. */
const clientId = () => z.string().regex(CLIENT_ID_PATTERN, CLIENT_ID_RULE);

/**
 * An image a client hands us (to edit, as a mask, as a video's first frame, as an upload): a path to one of
 * their own uploads, or the bytes inline as base64 with the type they claim (the bytes decide in the end).
 */
export const imageInputSchema = z.union([
  z.object({ path: z.string().min(1) }).strict(),
  z.object({ data: z.string().min(1), mime_type: z.string().min(1) }).strict(),
]);

/** A ratio like `16:9`; which ones a model makes is its catalogue entry's to say (checked once it is chosen). */
const aspectRatio = z.string().regex(/^\d{1,2}:\d{1,2}$/, "A ratio such as 16:9");

const flag = () => z.boolean({ error: "Must be true or false" });

/** Builds a schema once per limits object: zod compiles each schema instance on first use. */
function perLimits<Schema>(build: (limits: RequestLimits) => Schema): (limits: RequestLimits) => Schema {
  const built = new WeakMap<RequestLimits, Schema>();
  return (limits) => {
    let schema = built.get(limits);
    if (schema === undefined) {
      schema = build(limits);
      built.set(limits, schema);
    }
    return schema;
  };
}

/** `POST /chat/stream` and the streaming callable `chat`. */
export const chatBodySchema = perLimits((limits) =>
  z.object({
    message: z
      .string({ error: "Required: the message text" })
      .refine((text) => text.trim().length > 0, "Must not be empty")
      .refine((text) => text.length <= limits.maxMessageChars, `At most ${limits.maxMessageChars} characters`),
    request_id: clientId().optional(),
    chat_id: clientId().optional(),
    grounding: flag().default(false),
    /** One of `GET /models`; the default when absent. */
    model: z.string().optional(),
    thinking: flag().default(false),
    attachments: z
      .array(z.object({ path: z.string().min(1), mime_type: z.string().min(1) }))
      .max(limits.maxAttachments, `At most ${limits.maxAttachments} attachments`)
      .default([]),
  }),
);

/** `POST /chat/stop`. */
export const stopBodySchema = z.object({ message_id: clientId() });

/** `POST /chat/approve`: the user's answer to an answer's `approval_required`. */
export const approveBodySchema = z.object({
  message_id: clientId(),
  call_id: clientId(),
  approved: z.boolean({ error: "Required: true to run the tool, false to decline" }),
});

const jobCommon = (limits: RequestLimits) => ({
  prompt: z
    .string({ error: "Required: what to draw" })
    .refine((text) => text.trim().length > 0, "Must not be empty")
    .refine((text) => text.length <= limits.maxPromptChars, `At most ${limits.maxPromptChars} characters`),
  request_id: clientId().optional(),
  chat_id: clientId().optional(),
  /** One of `GET /models`; the default when absent. */
  model: z.string().min(1).optional(),
});

/** `POST /image/generate`. */
export const imageGenerateSchema = perLimits((limits) =>
  z.object({
    ...jobCommon(limits),
    aspect_ratio: aspectRatio.optional(),
    count: z.number().int().min(1).max(limits.imageMaxCount).default(1),
  }),
);

/** `POST /image/edit`: the mask, when given, is the same size as the image. */
export const imageEditSchema = perLimits((limits) =>
  z.object({
    ...jobCommon(limits),
    image: imageInputSchema,
    mask: imageInputSchema.optional(),
    aspect_ratio: aspectRatio.optional(),
  }),
);

/** `POST /video/generate`. */
export const videoGenerateSchema = perLimits((limits) =>
  z.object({
    ...jobCommon(limits),
    aspect_ratio: aspectRatio.optional(),
    duration_seconds: z.number().int().min(1).max(limits.videoMaxDurationSeconds).optional(),
    image: imageInputSchema.optional(),
    /** A finished video of the caller's to change ("now at night"), continued where its model allows it. */
    previous_job_id: clientId().optional(),
  }),
);

export type ChatBody = z.input<ReturnType<typeof chatBodySchema>>;
export type ImageInput = z.output<typeof imageInputSchema>;
export type ImageGenerateBody = z.input<ReturnType<typeof imageGenerateSchema>>;
export type ImageEditBody = z.input<ReturnType<typeof imageEditSchema>>;
export type VideoGenerateBody = z.input<ReturnType<typeof videoGenerateSchema>>;

/** The largest monthly budget an admin may set for one user, in US dollars: anything above is a typo. */
export const MAX_MONTHLY_BUDGET_USD = 100_000;

/** `POST /admin/users/{uid}/budget`: a monthly budget in US dollars (0 stops all spending), or null for the tier's. */
export const budgetBodySchema = z
  .object({
    monthly_usd: z
      .number({ error: "Required: a budget in US dollars, or null for the tier's" })
      .min(0, "Must not be negative")
      .max(MAX_MONTHLY_BUDGET_USD, `At most ${String(MAX_MONTHLY_BUDGET_USD)}`)
      .nullable(),
  })
  .strict();

/** `POST /admin/api-keys`. */
export const apiKeyCreateSchema = z.object({
  name: z
    .string({ error: "Required: what the key is for" })
    .trim()
    .min(1, "Must not be empty")
    .max(100, "At most 100 characters"),
  scopes: z
    .array(z.enum(API_KEY_SCOPES, { error: `One of ${API_KEY_SCOPES.join(", ")}` }))
    .min(1, "At least one scope")
    .refine((scopes) => new Set(scopes).size === scopes.length, "Each scope once"),
});
