/** Longest shared code kept; a longer value is no code (it would be text, not an identifier). */
const DEDUPE_KEY_MAX_LENGTH = 200;

const PLACEHOLDERS = new Set([
  'null',
  'undefined',
  'none',
  'n/a',
  'na',
  'nan',
  'tbd',
  'tba',
  'unknown',
]);
// ASCII letters and digits with the separators codes are printed with: ISRC "US-RC1-76-07839",
// EAN "84 12345 678901", "usrc17607839".
const PRINTED_CODE = /^[A-Za-z0-9]+(?:[-. ][A-Za-z0-9]+)*$/;

/**
 * A provider's shared code (ISRC, EAN, ticketing id) as it is compared across providers, or why
 * the value is no code. A code of ASCII letters and digits is compared in capitals without its
 * separators, so "us-rc1-76-07839" meets "USRC17607839"; any other value is compared as written
 * (NFKC, trimmed, whitespace collapsed). Empty values, placeholders ("0", "N/A", "null") and values
 * over 200 characters are no code.
 */
export function normalizeDedupeKey(value: string): { key: string } | { problem: string } {
  const text = value.normalize('NFKC').replace(/\s+/g, ' ').trim();
  if (text === '') return { problem: 'empty' };
  if (text.length > DEDUPE_KEY_MAX_LENGTH) {
    return { problem: `longer than ${DEDUPE_KEY_MAX_LENGTH} characters` };
  }
  const alphanumerics = text.replace(/[^\p{L}\p{N}]+/gu, '');
  if (/^0*$/.test(alphanumerics) || PLACEHOLDERS.has(text.toLowerCase())) {
    return { problem: `placeholder ${JSON.stringify(text)}` };
  }
  return { key: PRINTED_CODE.test(text) ? text.replace(/[-. ]/g, '').toUpperCase() : text };
}
