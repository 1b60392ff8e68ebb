/**
 * JSON as real sites publish it in `<script type="application/ld+json">`: wrapped in HTML comments
 * or CDATA, with raw control characters or invalid escapes inside strings, trailing commas, or
 * several top-level values in one block. Returns undefined when nothing can be recovered.
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
  const repaired = repairStrings(text).replace(/,(\s*[}\]])/g, '$1');
  try {
    return JSON.parse(repaired) as unknown;
  } catch {
    // Several values back to back ("}{" or "}\n{"): read them as a list.
  }
  try {
    return JSON.parse(`[${repaired.replace(/}\s*{/g, '},{')}]`) as unknown;
  } catch {
    return undefined;
  }
}

const VALID_ESCAPE = /["\\/bfnrtu]/;

/** Escapes raw control characters and fixes invalid backslash escapes, inside strings only. */
function repairStrings(text: string): string {
  let out = '';
  let inString = false;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index] ?? '';
    if (!inString) {
      if (char === '"') inString = true;
      out += char;
      continue;
    }
    if (char === '\\') {
      const next = text[index + 1] ?? '';
      if (
        VALID_ESCAPE.test(next) &&
        !(next === 'u' && !/^[0-9a-fA-F]{4}$/.test(text.slice(index + 2, index + 6)))
      ) {
        out += char + next;
        index += 1;
      } else {
        // "\'" and "\-" mean the character itself; a lone backslash is kept as one.
        out += next === "'" ? '' : '\\\\';
      }
      continue;
    }
    if (char === '"') {
      inString = false;
      out += char;
      continue;
    }
    const code = char.charCodeAt(0);
    out += code < 0x20 ? (code === 0x0a || code === 0x0d || code === 0x09 ? ' ' : '') : char;
  }
  return out;
}
