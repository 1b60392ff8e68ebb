import { createHash } from 'node:crypto';
import type { ProviderFetchState } from '@marquee/db';
import type { FetchedPayload, FetchPage } from '@marquee/providers';

/** The provider answered 304 to our conditional GET: the payload is the one last applied. */
export class NotModifiedSignal extends Error {
  override readonly name = 'NotModifiedSignal';
}

type Fetch = (url: string, headers: Record<string, string>) => Promise<FetchedPayload>;

function firstHeader(value: string | string[] | undefined): string | null {
  const text = Array.isArray(value) ? value[0] : value;
  return text === undefined || text === '' ? null : text;
}

/**
 * Wraps one sync's fetches: sends the stored validators (ETag, Last-Modified) on the first
 * request of the provider's own URL, turns a 304 into NotModifiedSignal, and hashes every body in
 * fetch order so an identical payload is recognised after parsing.
 *
 * Validators are sent only for single-document kinds: for a kind that fetches several pages, an
 * unchanged first page says nothing about the others.
 */
export class FetchTracker {
  private readonly hash = createHash('sha256');
  private conditionalSent = false;
  etag: string | null = null;
  lastModified: string | null = null;

  constructor(
    private readonly providerUrl: string,
    private readonly state: ProviderFetchState | null,
    private readonly conditional: boolean,
  ) {}

  wrap(fetch: Fetch): FetchPage {
    return async (url, options) => {
      const headers: Record<string, string> = {};
      const isMain = url === this.providerUrl && !this.conditionalSent;
      if (isMain && this.conditional && this.state) {
        if (this.state.etag) headers['if-none-match'] = this.state.etag;
        if (this.state.lastModified) headers['if-modified-since'] = this.state.lastModified;
        this.conditionalSent = Object.keys(headers).length > 0;
      }
      const page = await fetch(url, { ...headers, ...options?.headers });
      if (page.status === 304 && this.conditionalSent) throw new NotModifiedSignal('not modified');
      if (url === this.providerUrl) {
        this.etag = firstHeader(page.headers.etag);
        this.lastModified = firstHeader(page.headers['last-modified']);
      }
      // Length-prefixed so page boundaries count: ["ab","c"] and ["a","bc"] hash differently.
      this.hash.update(`${page.body.length}:`).update(page.body);
      return page;
    };
  }

  /** SHA-256 of every body fetched so far, in order. */
  contentHash(): string {
    return this.hash.copy().digest('hex');
  }
}

export type ShrinkVerdict = 'ok' | 'shrunk' | 'empty';

/**
 * Compares a payload's parsed count with the provider's last applied one. `empty`: nothing valid
 * where there were events; `shrunk`: it lost more than `ratio` of them (ratio 0 disables).
 */
export function judgeShrink(
  parsedCount: number,
  reference: number | undefined,
  ratio: number,
): ShrinkVerdict {
  if (reference === undefined || reference === 0) return 'ok';
  if (parsedCount === 0) return 'empty';
  if (ratio > 0 && parsedCount < reference * (1 - ratio)) return 'shrunk';
  return 'ok';
}
