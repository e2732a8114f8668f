/** Prints a Markdown table (readable in a terminal, pasteable into docs/performance.md). */
export function markdownTable(columns: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells: (readonly string[])[] = [
    columns,
    ...rows.map((row) => row.map((cell) => (typeof cell === "number" ? formatNumber(cell) : cell))),
  ];
  const widths = columns.map((_, index) => Math.max(...cells.map((row) => (row[index] ?? "").length)));
  const line = (row: readonly string[]) =>
    `| ${row.map((cell, index) => cell.padEnd(widths[index] ?? 0)).join(" | ")} |`;
  return [
    line(cells[0] ?? []),
    `|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`,
    ...cells.slice(1).map(line),
  ].join("\n");
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return "n/a";
  if (Number.isInteger(value)) return String(value);
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}
