import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RESULTS_FILE = join(dirname(fileURLToPath(import.meta.url)), 'RESULTS.md');

/**
 * Replaces the `## <title>` section of bench/RESULTS.md (up to the next `## ` heading), or appends
 * it; other sections (written by other benchmarks) are left as they are. A `### Notes` subsection
 * inside the old section survives: it holds hand-written analysis, not measurements.
 */
export function writeSection(title: string, body: string, file = RESULTS_FILE): void {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line.trim() === `## ${title}`);
  let next = body.trimEnd();
  if (start === -1) {
    writeFileSync(file, `${text.trimEnd()}\n\n${next}\n`);
    return;
  }
  let end = lines.findIndex((line, index) => index > start && line.startsWith('## '));
  if (end === -1) end = lines.length;
  const old = lines.slice(start, end);
  const notes = old.findIndex((line) => line.trim() === '### Notes');
  if (notes !== -1 && !next.includes('### Notes')) {
    next = `${next}\n\n${old.slice(notes).join('\n').trimEnd()}`;
  }
  const rest = lines.slice(end).join('\n').trimStart();
  writeFileSync(
    file,
    `${[lines.slice(0, start).join('\n').trimEnd(), next, rest].filter(Boolean).join('\n\n')}\n`,
  );
}
