import type { EventRecord } from '@marquee/db';

export interface ParseContext {
  /** IANA zone of the provider: times written without an offset are in this zone. */
  timezone: string;
}

/** One rejected item of a payload, kept for inspection. */
export interface RejectSample {
  /** The item's external key, as far as it could be read ("?" stands for a missing id). */
  key: string;
  reason: string;
}

export interface ParseResult {
  /** Items found in the payload, valid or not: `fetched === events.length + rejected`. */
  fetched: number;
  /**
   * Valid, normalized events, unique by `externalKey`. A later item with the same key replaces an
   * earlier one, and the earlier one is counted as a reject ("duplicate key").
   */
  events: EventRecord[];
  /** The first `REJECT_SAMPLE_LIMIT` rejects, in payload order. */
  rejects: RejectSample[];
  /** Exact number of rejected items, however many samples were kept. */
  rejected: number;
}

/** A payload format: turns one fetched body into event records. */
export interface ProviderKind {
  kind: string;
  description: string;
  /**
   * Bad items are rejected one by one and the rest is kept; only a payload that is unusable as a
   * whole throws `PayloadError`. A `ctx.timezone` that is not a valid IANA zone throws `RangeError`
   * (a configuration error, not a property of the payload).
   */
  parse(body: Buffer, ctx: ParseContext): ParseResult;
}

/** The whole payload is unusable (not XML, wrong root element...): a permanent failure. */
export class PayloadError extends Error {
  override readonly name = 'PayloadError';
}

/**
 * Reject samples kept per parse. Bounds memory on a feed where every item is bad; a sync run keeps
 * at most this many anyway (`REJECT_SAMPLE_SIZE` in @marquee/db).
 */
export const REJECT_SAMPLE_LIMIT = 50;
