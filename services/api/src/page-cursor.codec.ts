/** Keyset position after which the next page starts: the (start, id) of the last event served. */
export interface PageCursor {
  startsAt: Date;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SEPARATOR = ' ';

/*
 * Starts are stored with millisecond precision (timestamptz(3)), the precision of a JS Date,
 * so the cursor's instant compares exactly with the stored value and no row is skipped or repeated.
 */
export function encodeCursor({ startsAt, id }: PageCursor): string {
  return Buffer.from(`${startsAt.toISOString()}${SEPARATOR}${id}`, 'utf8').toString('base64url');
}

/** Null for anything `encodeCursor` could not have produced. */
export function decodeCursor(text: string): PageCursor | null {
  const decoded = Buffer.from(text, 'base64url').toString('utf8');
  // Node's base64url decoder skips characters it does not know; a round trip rejects those.
  if (Buffer.from(decoded, 'utf8').toString('base64url') !== text) return null;
  const [iso, id, ...rest] = decoded.split(SEPARATOR);
  if (iso === undefined || id === undefined || rest.length > 0 || !UUID.test(id)) return null;
  const startsAt = new Date(iso);
  if (Number.isNaN(startsAt.getTime()) || startsAt.toISOString() !== iso) return null;
  return { startsAt, id };
}
