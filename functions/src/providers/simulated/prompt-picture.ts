import { createHash } from "node:crypto";

/** An SVG picture of the prompt: colours and shapes from its hash, the words themselves on a band. */
export function promptPicture(prompt: string, width: number, height: number): string {
  const hash = createHash("sha256").update(prompt).digest();
  const byte = (index: number) => hash[index % hash.length] ?? 0;
  const colour = (index: number) =>
    `hsl(${String(Math.round((byte(index) / 255) * 360))}, 65%, ${String(35 + (byte(index + 1) % 30))}%)`;
  const shapes = Array.from({ length: 6 }, (_, shape) => {
    const x = (byte(4 + shape * 3) / 255) * width;
    const y = (byte(5 + shape * 3) / 255) * height;
    const radius = (0.05 + (byte(6 + shape * 3) / 255) * 0.2) * Math.min(width, height);
    return `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="${radius.toFixed(1)}" fill="${colour(20 + shape)}" fill-opacity="0.7"/>`;
  }).join("");
  const fontSize = Math.max(10, Math.round(Math.min(width, height) / 18));
  const lines = wrap(prompt, Math.max(8, Math.floor(width / (fontSize * 0.6))), 3);
  const band = fontSize * 1.4 * lines.length + fontSize;
  const text = lines
    .map(
      (line, row) =>
        `<text x="${String(fontSize)}" y="${(height - band + fontSize * 1.4 * (row + 1)).toFixed(1)}">${escapeXml(line)}</text>`,
    )
    .join("");
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${String(width)}" height="${String(height)}">` +
    `<defs><linearGradient id="sky" x1="0" y1="0" x2="1" y2="1">` +
    `<stop offset="0" stop-color="${colour(0)}"/><stop offset="1" stop-color="${colour(2)}"/></linearGradient></defs>` +
    `<rect width="100%" height="100%" fill="url(#sky)"/>${shapes}` +
    `<rect y="${(height - band).toFixed(1)}" width="100%" height="${band.toFixed(1)}" fill="black" fill-opacity="0.45"/>` +
    `<g fill="white" font-family="sans-serif" font-size="${String(fontSize)}">${text}</g></svg>`
  );
}

function wrap(text: string, width: number, maxLines: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter((part) => part !== "")) {
    const candidate = line === "" ? word : `${line} ${word}`;
    if (candidate.length <= width || line === "") line = candidate.slice(0, width);
    else {
      lines.push(line);
      line = word.slice(0, width);
    }
  }
  if (line !== "") lines.push(line);
  return lines.length > maxLines ? [...lines.slice(0, maxLines - 1), `${lines[maxLines - 1] ?? ""}…`] : lines;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (character) => `&#${String(character.charCodeAt(0))};`);
}
