import { z } from "zod";
import { clientId } from "../chat/chat-request.ts";
import type { Settings } from "../config/settings.ts";
import { imageInputSchema } from "./image-input.ts";

/** A ratio like `16:9`; which ones a model makes is its catalogue entry's to say (checked once it is chosen). */
const aspectRatio = z.string().regex(/^\d{1,2}:\d{1,2}$/, "A ratio such as 16:9");

const common = (settings: Settings) => ({
  prompt: z
    .string({ error: "Required: what to draw" })
    .refine((text) => text.trim().length > 0, "Must not be empty")
    .refine((text) => text.length <= settings.MAX_PROMPT_CHARS, `At most ${settings.MAX_PROMPT_CHARS} characters`),
  request_id: clientId().optional(),
  chat_id: clientId().optional(),
  /** One of `GET /models`; the default when absent. */
  model: z.string().min(1).optional(),
});

/** Builds a schema once per settings object (zod compiles each schema instance on first use). */
function memoized<Schema>(build: (settings: Settings) => Schema): (settings: Settings) => Schema {
  const built = new WeakMap<Settings, Schema>();
  return (settings) => {
    let schema = built.get(settings);
    if (schema === undefined) {
      schema = build(settings);
      built.set(settings, schema);
    }
    return schema;
  };
}

export const imageGenerateSchema = memoized((settings: Settings) =>
  z.object({
    ...common(settings),
    aspect_ratio: aspectRatio.optional(),
    count: z.number().int().min(1).max(settings.IMAGE_MAX_COUNT).default(1),
  }),
);

export const imageEditSchema = memoized((settings: Settings) =>
  z.object({
    ...common(settings),
    image: imageInputSchema,
    mask: imageInputSchema.optional(),
    aspect_ratio: aspectRatio.optional(),
  }),
);

export const videoGenerateSchema = memoized((settings: Settings) =>
  z.object({
    ...common(settings),
    aspect_ratio: aspectRatio.optional(),
    duration_seconds: z.number().int().min(1).max(settings.VIDEO_MAX_DURATION_SECONDS).optional(),
    image: imageInputSchema.optional(),
    /** A finished video of the caller's to change ("now at night"), continued where its model allows it. */
    previous_job_id: clientId().optional(),
  }),
);
