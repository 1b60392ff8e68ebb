import type { z } from 'zod';
import type { EventRecord } from '@marquee/event-model';
import type { FetchedPayload } from '@marquee/fetch';
import type { ParseLimits } from './parse.limits.ts';

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
  /**
   * Accepted items with a problem worth telling (a price that says no amount, a dedupeKey with no
   * value): the first `REJECT_SAMPLE_LIMIT`, in payload order. Kinds without such checks omit it.
   */
  warnings?: RejectSample[];
  /** Exact number of warnings, however many samples were kept. */
  warned?: number;
  /** A walk of pages stopped at `maxPages` while the payload said there was more. */
  truncated?: boolean;
  /**
   * The configured items path (or selector) matched nothing in the whole payload, e.g.
   * `items path "data.events" matched nothing`: a wrong path or a changed format, never "no
   * events". A path that leads to an empty list matches (a provider with nothing on).
   */
  unmatched?: string;
}

/**
 * Fetches one document for a kind. The worker supplies it (with its limits, breaker, politeness
 * and guards); `providers test` supplies a plain one. Throws `FetchError` on failure.
 */
export type FetchPage = (
  url: string,
  options?: { headers?: Record<string, string> },
) => Promise<FetchedPayload>;

export interface IngestContext<Config = unknown> {
  /** The provider's URL: the first (or only) document to fetch. */
  url: string;
  /** The provider's stored config, already validated by the kind's `configSchema`. */
  config: Config;
  timezone: string;
  fetch: FetchPage;
  /** Bounds on each document's parse (the worker's PARSE_* settings); defaults otherwise. */
  limits?: ParseLimits | undefined;
}

/**
 * A provider kind: how to fetch a provider's documents (one feed, or pages of an API or a site)
 * and turn them into normalized event records.
 */
export interface ProviderKind<Config = unknown> {
  kind: string;
  description: string;
  /** Validates a provider's `config` (`providers add --config`); errors name the field. */
  configSchema: z.ZodType<Config>;
  /**
   * Bad items are rejected one by one and the rest is kept; only a payload that is unusable as a
   * whole throws `PayloadError`. A timezone that is not a valid IANA zone throws `RangeError`
   * (a configuration error, not a property of the payload).
   */
  ingest(ctx: IngestContext<Config>): Promise<ParseResult>;
}

/** A kind whose provider is one document: fetch the URL once, parse the body. */
export function singleDocumentKind<Config>(definition: {
  kind: string;
  description: string;
  configSchema: z.ZodType<Config>;
  parse(body: Buffer, ctx: ParseContext & { config: Config }): ParseResult;
}): ProviderKind<Config> & { parse: typeof definition.parse } {
  return {
    ...definition,
    async ingest({ url, config, timezone, fetch }) {
      const { body } = await fetch(url);
      return definition.parse(body, { timezone, config });
    },
  };
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
