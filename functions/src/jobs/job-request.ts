import { z } from "zod";
import { clientId } from "../chat/chat-request.ts";
import type { Settings } from "../config/settings.ts";
import { imageInputSchema } from "./image-input.ts";

/** Aspect ratios the image model accepts (`imageConfig.aspectRatio`). */
export const IMAGE_ASPECT_RATIOS = ["1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"] as const;
/** Aspect ratios Veo accepts. */
export const VIDEO_ASPECT_RATIOS = ["16:9", "9:16"] as const;

const common = (settings: Settings) => ({
  prompt: z
    .string({ error: "Required: what to draw" })
    .refine((text) => text.trim().length > 0, "Must not be empty")
    .refine((text) => text.length <= settings.MAX_PROMPT_CHARS, `At most ${settings.MAX_PROMPT_CHARS} characters`),
  request_id: clientId().optional(),
  chat_id: clientId().optional(),
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
    aspect_ratio: z.enum(IMAGE_ASPECT_RATIOS).optional(),
    count: z.number().int().min(1).max(settings.IMAGE_MAX_COUNT).default(1),
  }),
);

export const imageEditSchema = memoized((settings: Settings) =>
  z.object({
    ...common(settings),
    image: imageInputSchema,
    mask: imageInputSchema.optional(),
    aspect_ratio: z.enum(IMAGE_ASPECT_RATIOS).optional(),
  }),
);

export const videoGenerateSchema = memoized((settings: Settings) =>
  z.object({
    ...common(settings),
    aspect_ratio: z.enum(VIDEO_ASPECT_RATIOS).optional(),
    duration_seconds: z.number().int().min(1).max(settings.VIDEO_MAX_DURATION_SECONDS).optional(),
    image: imageInputSchema.optional(),
  }),
);
