import type { IncomingHttpHeaders } from 'node:http';

/**
 * The body length a final response announces, when it is one the bytes must match: a valid
 * Content-Length of an identity-encoded body that has a body at all. A compressed body's
 * Content-Length is its compressed size, which says nothing about what the decompressor yields;
 * 204 and 304 never have a body, whatever the header says.
 */
export function announcedLength(status: number, headers: IncomingHttpHeaders): number | undefined {
  if (status === 204 || status === 304) return undefined;
  const encoding = headers['content-encoding'];
  if (encoding !== undefined && encoding !== 'identity') return undefined;
  const text = headers['content-length'];
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  const length = Number(text);
  return Number.isSafeInteger(length) ? length : undefined;
}

/**
 * Accumulates a response body as it arrives. With an announced length the bytes are copied into
 * one buffer of exactly that size, so the body exists once and each chunk can be collected as soon
 * as it is copied. Without one, chunks are kept and joined at the end: for the time of that copy
 * the body exists twice, and the chunks are dropped right after.
 */
export class ResponseBodyCollector {
  private readonly sized: Buffer | undefined;
  private chunks: Buffer[] = [];
  private received = 0;

  constructor(readonly announced?: number) {
    // Unpooled and not zeroed: pages are touched only as bytes arrive, and a body is handed out
    // only once every byte of it was written (`take`).
    this.sized = announced === undefined ? undefined : Buffer.allocUnsafeSlow(announced);
  }

  get size(): number {
    return this.received;
  }

  /** Adds a chunk; false (nothing added) when it would run past the announced length. */
  push(chunk: Buffer): boolean {
    if (this.sized) {
      if (this.received + chunk.length > this.sized.length) return false;
      chunk.copy(this.sized, this.received);
    } else {
      this.chunks.push(chunk);
    }
    this.received += chunk.length;
    return true;
  }

  /** The whole body; undefined when fewer bytes arrived than were announced. */
  take(): Buffer | undefined {
    if (this.sized) return this.received === this.sized.length ? this.sized : undefined;
    const chunks = this.chunks;
    this.chunks = [];
    return Buffer.concat(chunks, this.received);
  }
}
