import { createHash } from 'node:crypto';

/** A body with its strong validator (quoted), computed once when the body was loaded. */
export interface SealedBody {
  /** The body bytes, exactly as stored; never mutate (concurrent requests share them). */
  body: Buffer;
  etag: string;
}

/** A stored entry: the body and what decides whether it may still be served as a hit. */
export interface StoredEntry extends SealedBody {
  /** Catalog version the body was loaded under. */
  version: string;
  /** When it was stored (ms since the epoch, the storing process's clock). */
  storedAt: number;
}

const NEWLINE = 0x0a;

export function sealBody(text: string): SealedBody {
  const body = Buffer.from(text, 'utf8');
  const etag = `"${createHash('sha1').update(body).digest('base64url')}"`;
  return { body, etag };
}

/**
 * Stored value: `<version> <storedAt> <etag>\n<body>`. One read returns all of it, and the body
 * is a view of the reply buffer, so a hit copies no bytes and hashes nothing. The read script
 * (entry.store.ts) matches the header's first two fields before it returns the value.
 */
export function encodeEntry({ version, storedAt, etag, body }: StoredEntry): Buffer {
  return Buffer.concat([Buffer.from(`${version} ${storedAt} ${etag}\n`, 'latin1'), body]);
}

/** The entry in a stored value; null for a value this code did not write. */
export function decodeEntry(stored: Buffer): StoredEntry | null {
  const split = stored.indexOf(NEWLINE);
  if (split <= 0) return null;
  const [version, storedAt, etag] = stored.toString('latin1', 0, split).split(' ');
  if (version === undefined || storedAt === undefined || etag === undefined) return null;
  return { version, storedAt: Number(storedAt), etag, body: stored.subarray(split + 1) };
}
