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
