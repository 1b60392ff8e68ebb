// Values in PostgreSQL's own text formats, built in JS so that a whole column or a whole chunk
// travels as one string instead of thousands of values the driver converts one by one.

export type PgScalar = string | number | boolean | null;

/**
 * One PostgreSQL array literal. Every element is quoted and escaped (as pg's own array
 * serialisation does); null becomes NULL.
 */
export function pgArray(values: readonly PgScalar[]): string {
  let literal = '{';
  for (let index = 0; index < values.length; index += 1) {
    const value = values[index];
    if (index > 0) literal += ',';
    if (value === null || value === undefined) literal += 'NULL';
    else if (typeof value === 'string') literal += `"${value.replace(/[\\"]/g, '\\$&')}"`;
    else literal += `"${String(value)}"`;
  }
  return `${literal}}`;
}

const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
};

/**
 * One field of `COPY … FROM STDIN` in text format: null is \N; a backslash, tab, newline or
 * carriage return is escaped, so no value can end its field, its row or the data (`\.`).
 */
export function copyField(value: PgScalar): string {
  if (value === null) return '\\N';
  if (typeof value === 'boolean') return value ? 't' : 'f';
  const text = typeof value === 'string' ? value : String(value);
  return COPY_SPECIAL.test(text) ? text.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c] ?? c) : text;
}
