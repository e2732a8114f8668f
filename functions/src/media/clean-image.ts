import type { Sharp, SharpOptions } from "sharp";
import { inspectImage, type ImageInfo } from "./image-inspection.ts";

/** An image decoded in full and encoded again by us: oriented upright, no metadata, nothing but pixels. */
export interface CleanImage {
  readonly mimeType: ImageInfo["mimeType"];
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
}

/** Why untrusted bytes are not an image we take. */
export type ImageProblem =
  /** Not PNG, JPEG or WebP by its magic bytes. */
  | { readonly kind: "type" }
  /** An accepted type, but not the one the client declared. */
  | { readonly kind: "declared"; readonly actual: ImageInfo["mimeType"] }
  /** A side over the limit, read from the header before anything is decoded. */
  | { readonly kind: "dimensions"; readonly width: number; readonly height: number }
  /** The header is fine but the pixels do not decode: truncated, corrupt, or a decompression bomb. */
  | { readonly kind: "corrupt" };

export class ImageRejectedError extends Error {
  readonly problem: ImageProblem;

  constructor(problem: ImageProblem) {
    super(`Image rejected: ${problem.kind}`);
    this.name = "ImageRejectedError";
    this.problem = problem;
  }
}

/** sharp (libvips) is loaded on first use, so an instance that never touches an image never loads it. */
export async function loadSharp(): Promise<(input?: Buffer, options?: SharpOptions) => Sharp> {
  return (await import("sharp")).default;
}

/**
 * Decodes untrusted image bytes completely and encodes them again in their own format: every pixel is read (a
 * valid header before garbage, a truncated or corrupt body, or more pixels than `maxDimension` squared is
 * refused), the picture is turned upright by its EXIF orientation, and nothing but pixels survives (no EXIF, GPS,
 * camera serials, comments; colours converted to sRGB). The cheap header check runs first (type, the client's
 * `declared` type when it gave one, sides), so a bomb or a stranger never reaches the decoder.
 */
export async function cleanImage(
  bytes: Buffer,
  limits: { readonly maxDimension: number; readonly declared?: string | undefined },
): Promise<CleanImage> {
  const header = inspectImage(bytes);
  if (header === undefined) throw new ImageRejectedError({ kind: "type" });
  if (limits.declared !== undefined && limits.declared !== header.mimeType) {
    throw new ImageRejectedError({ kind: "declared", actual: header.mimeType });
  }
  if (header.width > limits.maxDimension || header.height > limits.maxDimension) {
    throw new ImageRejectedError({ kind: "dimensions", width: header.width, height: header.height });
  }
  const sharp = await loadSharp();
  try {
    const image = sharp(bytes, {
      failOn: "error",
      limitInputPixels: limits.maxDimension * limits.maxDimension,
    }).autoOrient();
    const { data, info } = await encodeAs(image, header.mimeType).toBuffer({ resolveWithObject: true });
    return { mimeType: header.mimeType, data, width: info.width, height: info.height };
  } catch {
    throw new ImageRejectedError({ kind: "corrupt" });
  }
}

/** Encodes in the given format: lossless PNG, JPEG and WebP at a quality where re-encoding is not visible. */
export function encodeAs(image: Sharp, mimeType: ImageInfo["mimeType"]): Sharp {
  switch (mimeType) {
    case "image/png":
      return image.png();
    case "image/jpeg":
      return image.jpeg({ quality: 92, mozjpeg: true });
    case "image/webp":
      return image.webp({ quality: 92 });
  }
}
