import { jsonrepair } from 'jsonrepair';

/**
 * JSON as real sites publish it in `<script type="application/ld+json">`: wrapped in HTML comments
 * or CDATA, with raw control characters or invalid escapes inside strings, trailing commas, single
 * quotes, or several top-level values in one block. Repairs are jsonrepair's; a block cut off
 * before its end is not read (its last values may be cut too). Returns undefined when nothing can
 * be recovered.
 */
export function parseLenientJson(source: string): unknown {
  const text = source
    .trim()
    .replace(/^(?:<!--|\/\/\s*<!\[CDATA\[|<!\[CDATA\[)\s*/, '')
    .replace(/\s*(?:-->|\/\/\s*\]\]>|\]\]>)$/, '')
    .replace(/;\s*$/, '');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // Repaired below.
  }
  if (isCutOff(text)) return undefined;
  // jsonrepair refuses these two outright, where a lost character or a literal backslash is the
  // better reading: control characters JSON never allows (tab, newline and CR it escapes itself),
  // and "\u" without four hex digits.
  const prepared = text
    // eslint-disable-next-line no-control-regex -- these control characters are what it removes
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
    .replace(/\\(\\|u(?![0-9a-fA-F]{4}))/g, (escape, next: string) =>
      next === '\\' ? escape : '\\\\u',
    );
  for (const candidate of [prepared, prepared.replace(/}\s*{/g, '}\n{')]) {
    try {
      // Values on lines of their own (the second candidate: "}{" split) come back as a list.
      return JSON.parse(jsonrepair(candidate)) as unknown;
    } catch {
      // Next candidate, or nothing recoverable.
    }
  }
  return undefined;
}

/** True when `text` stops inside a string or with a bracket still open. */
function isCutOff(text: string): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index];
    if (inString) {
      if (char === '\\') index += 1;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === '{' || char === '[') depth += 1;
    else if (char === '}' || char === ']') depth -= 1;
  }
  return inString || depth > 0;
}
