import type { ChangePosition } from '@marquee/db';

// xid8 and bigint positions: unsigned 64-bit and signed 64-bit decimal integers.
const XID_MAX = 2n ** 64n - 1n;
const POSITION_MAX = 2n ** 63n - 1n;
const FORMAT = /^c1\.(\d{1,20})\.(\d{1,19})$/;

/** The change feed's opaque cursor: a place in (writer xid, position) order (docs/changes.md). */
export function encodeChangeCursor({ xid, position }: ChangePosition): string {
  return Buffer.from(`c1.${xid}.${position}`, 'utf8').toString('base64url');
}

/** Null for anything `encodeChangeCursor` could not have produced. */
export function decodeChangeCursor(text: string): ChangePosition | null {
  const decoded = Buffer.from(text, 'base64url').toString('utf8');
  // Node's base64url decoder skips characters it does not know; a round trip rejects those.
  if (Buffer.from(decoded, 'utf8').toString('base64url') !== text) return null;
  const match = FORMAT.exec(decoded);
  if (!match?.[1] || !match[2]) return null;
  const xid = BigInt(match[1]);
  const position = BigInt(match[2]);
  if (xid > XID_MAX || position > POSITION_MAX) return null;
  // Canonical digits only, so that one place has one cursor.
  if (String(xid) !== match[1] || String(position) !== match[2]) return null;
  return { xid: match[1], position };
}
