import type { ImageInput } from "../contract/request-bodies.ts";
import { assertBlobPath, type BlobStore } from "../blobs/blob-store.ts";
import { AppError, invalidArgument, notFound } from "../errors/app-error.ts";
import { cleanImage, ImageRejectedError, type CleanImage } from "../media/clean-image.ts";
import { mediaPaths } from "../store/media-paths.ts";

/**
 * An image a client handed us (`ImageInput`: a path to one of their uploads, or inline base64), checked and
 * cleaned. Whatever the client says, the bytes decide: the type is sniffed from the magic bytes (PNG, JPEG, WebP:
 * else 415), the size is checked before decoding and after (413), the sides are read from the header (400 over
 * `maxDimension`), and then every pixel is decoded (400 for a truncated or corrupt image) and encoded again
 * upright and without metadata: what is stored and sent to a model is that re-encoding, never the client's bytes.
 */
export type ValidatedImage = CleanImage;

export interface ImageLimits {
  readonly maxBytes: number;
  readonly maxDimension: number;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function tooLarge(field: string, limits: ImageLimits): AppError {
  return new AppError("payload_too_large", `The image is larger than ${limits.maxBytes} bytes.`, {
    details: { field, limit_bytes: limits.maxBytes },
  });
}

/**
 * Checks bytes that claim to be an image (`declared`: the client's mime type, when it gave one) and hands back
 * their clean re-encoding: decoded in full, upright, without metadata.
 */
export async function validateImageBytes(
  data: Buffer,
  field: string,
  limits: ImageLimits,
  declared?: string,
): Promise<ValidatedImage> {
  if (data.length > limits.maxBytes) throw tooLarge(field, limits);
  try {
    return await cleanImage(data, { maxDimension: limits.maxDimension, declared });
  } catch (error) {
    if (!(error instanceof ImageRejectedError)) throw error;
    const { problem } = error;
    if (problem.kind === "type") throw unsupported(field);
    if (problem.kind === "declared") {
      throw new AppError("unsupported_media_type", `The image is ${problem.actual}, not ${String(declared)}.`, {
        details: { field },
      });
    }
    if (problem.kind === "dimensions") {
      throw invalidArgument("The image is too large.", {
        [field]: `At most ${limits.maxDimension} pixels per side (this one is ${problem.width}x${problem.height})`,
      });
    }
    throw invalidArgument("The image could not be decoded.", {
      [field]: "A complete PNG, JPEG or WebP image (this one is truncated or corrupt)",
    });
  }
}

function unsupported(field: string): AppError {
  return new AppError("unsupported_media_type", "Images must be PNG, JPEG or WebP.", { details: { field } });
}

export async function resolveImageInput(
  uid: string,
  input: ImageInput,
  field: string,
  blobs: BlobStore,
  limits: ImageLimits,
): Promise<ValidatedImage> {
  if ("path" in input) {
    const uploads = mediaPaths.uploads(uid);
    try {
      assertBlobPath(input.path);
    } catch {
      throw invalidArgument("Invalid image path.", { [`${field}.path`]: `Must be one of your uploads: ${uploads}...` });
    }
    if (!input.path.startsWith(uploads)) {
      throw invalidArgument("Images must be your own uploads.", { [`${field}.path`]: `Must start with ${uploads}` });
    }
    const stored = await blobs.stat(input.path);
    if (stored === null) throw notFound("Image");
    if (stored.size > limits.maxBytes) throw tooLarge(field, limits);
    const blob = await blobs.get(input.path);
    if (blob === null) throw notFound("Image");
    return validateImageBytes(blob.bytes, field, limits);
  }
  const encoded = input.data.replace(/^data:[^,]*;base64,/, "").replace(/\s+/g, "");
  if (Math.floor((encoded.length * 3) / 4) > limits.maxBytes + 3) throw tooLarge(field, limits);
  if (!BASE64.test(encoded) || encoded.length % 4 === 1) {
    throw invalidArgument("The image data is not valid base64.", { [`${field}.data`]: "Base64-encoded image bytes" });
  }
  return validateImageBytes(Buffer.from(encoded, "base64"), field, limits, input.mime_type);
}
