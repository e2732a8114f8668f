/** What a media URL must serve: these bytes, with this content type. */
export async function checkMediaUrl(
  url: string,
  expected: "image" | "video",
): Promise<{ ok: true; contentType: string; size: number } | { ok: false; reason: string }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(60_000) });
  if (!response.ok) return { ok: false, reason: `GET media URL answered ${response.status}` };
  const contentType = response.headers.get("content-type") ?? "";
  const bytes = Buffer.from(await response.arrayBuffer());
  if (expected === "image") {
    if (!contentType.startsWith("image/")) return { ok: false, reason: `image URL served ${contentType}` };
    const png = bytes.subarray(0, 8).equals(Buffer.from("89504e470d0a1a0a", "hex"));
    const jpeg = bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
    const webp =
      bytes.subarray(0, 4).toString("latin1") === "RIFF" && bytes.subarray(8, 12).toString("latin1") === "WEBP";
    if (!png && !jpeg && !webp) return { ok: false, reason: "image URL bytes are not PNG, JPEG or WebP" };
  } else {
    if (contentType !== "video/mp4") return { ok: false, reason: `video URL served ${contentType}` };
    if (bytes.subarray(4, 8).toString("latin1") !== "ftyp")
      return { ok: false, reason: "video URL bytes are not an MP4" };
  }
  return { ok: true, contentType, size: bytes.length };
}
