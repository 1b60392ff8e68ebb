/**
 * Dotted paths into parsed JSON or XML (fast-xml-parser objects): `a.b.0.c`. Arrays met on the
 * way are flattened (`performers.name` reads every performer's name), a number selects one
 * element, `*` stands for every element or value, `$` (or an empty path) is the item itself. An
 * XML element with attributes gives its text (`#text`); attributes are `@name`.
 */
export function readPath(root: unknown, path: string): unknown[] {
  return follow(root, path).flatMap((value): unknown[] =>
    Array.isArray(value) ? (value as unknown[]) : [value],
  );
}

/** Whether `path` leads to anything in `root`: an empty list or element counts, it is there. */
export function pathExists(root: unknown, path: string): boolean {
  return follow(root, path).length > 0;
}

/** The values `path` leads to, lists at its end not flattened. */
function follow(root: unknown, path: string): unknown[] {
  const segments = path === '$' || path === '' ? [] : path.split('.');
  let current: unknown[] = [root];
  for (const segment of segments) {
    const next: unknown[] = [];
    for (const value of current) step(value, segment, next);
    current = next;
  }
  return current;
}

function step(value: unknown, segment: string, into: unknown[]): void {
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) {
    if (/^\d+$/.test(segment)) {
      const element: unknown = value[Number(segment)];
      if (element !== undefined) into.push(element);
    } else if (segment === '*') {
      into.push(...(value as unknown[]));
    } else {
      for (const element of value) step(element, segment, into);
    }
    return;
  }
  if (typeof value !== 'object') return;
  // A single XML child reads like a one-element list.
  if (segment === '0') {
    into.push(value);
    return;
  }
  if (segment === '*') {
    into.push(...(Object.values(value) as unknown[]));
    return;
  }
  const child = (value as Record<string, unknown>)[segment];
  if (child !== undefined) into.push(child);
}

/** Scalar text of a value; objects give their XML text, if any. */
export function scalarText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const text = (value as Record<string, unknown>)['#text'];
    if (typeof text === 'string' || typeof text === 'number') return String(text);
  }
  return undefined;
}

/** A value a field reads: text, or a JSON number kept as a number (prices read it exactly). */
export type Scalar = string | number;

/** Every scalar at a path: numbers stay numbers, booleans and XML text become text. */
export function readScalars(root: unknown, path: string): Scalar[] {
  return readPath(root, path)
    .map((value) => (typeof value === 'number' ? value : scalarText(value)))
    .filter((value) => value !== undefined);
}

/** Every scalar at a path, as text. */
export function readTexts(root: unknown, path: string): string[] {
  return readPath(root, path)
    .map(scalarText)
    .filter((text) => text !== undefined);
}
