/** Columns padded to their widest cell, two spaces apart; trailing blanks trimmed. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** JSON as every `--json` prints it: the only thing on stdout. */
export function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/** A `list` command's output: the items as JSON with `--json`, else one line each or `empty`. */
export function printList<T>(
  out: (line: string) => void,
  items: readonly T[],
  format: { json: boolean | undefined; empty: string; line: (item: T) => string },
): void {
  if (format.json) out(json(items));
  else if (items.length === 0) out(format.empty);
  else for (const item of items) out(format.line(item));
}
