import { createHash } from 'node:crypto';
import type { ProviderFetchState } from '@marquee/db';
import type { FetchedPayload } from '@marquee/fetch';
import type { FetchPage } from '@marquee/providers';

/**
 * The payload is the one last applied, known before parsing it: the provider answered 304 to the
 * conditional GET, or sent the same bytes again.
 */
export class UnchangedPayloadSignal extends Error {
  override readonly name = 'UnchangedPayloadSignal';

  constructor(readonly via: 'not-modified' | 'same-content') {
    super(via === 'not-modified' ? 'not modified' : 'same content as the last applied payload');
  }
}

type Fetch = (url: string, headers: Record<string, string>) => Promise<FetchedPayload>;

function firstHeader(value: string | string[] | undefined): string | null {
  const text = Array.isArray(value) ? value[0] : value;
  return text === undefined || text === '' ? null : text;
}

/**
 * Wraps one sync's fetches and hashes every body in fetch order, so an identical payload is
 * recognised after parsing. With `shortcut`, it also recognises the last applied payload before
 * any parse: it sends the stored validators (ETag, Last-Modified) on the first request of the
 * provider's own URL and turns a 304 into UnchangedPayloadSignal, and does the same when that
 * body hashes to the stored content hash.
 *
 * `shortcut` is for single-document kinds only: for a kind that fetches several pages, an
 * unchanged first page says nothing about the others.
 */
export class FetchTracker {
  private readonly hash = createHash('sha256');
  private mainFetched = false;
  private conditionalSent = false;
  etag: string | null = null;
  lastModified: string | null = null;

  constructor(
    private readonly providerUrl: string,
    private readonly state: ProviderFetchState | null,
    private readonly shortcut: boolean,
  ) {}

  wrap(fetch: Fetch): FetchPage {
    return async (url, options) => {
      const headers: Record<string, string> = {};
      const isMain = url === this.providerUrl && !this.mainFetched;
      this.mainFetched ||= isMain;
      const shortcut = isMain && this.shortcut && this.state !== null;
      if (shortcut) {
        if (this.state.etag) headers['if-none-match'] = this.state.etag;
        if (this.state.lastModified) headers['if-modified-since'] = this.state.lastModified;
        this.conditionalSent = Object.keys(headers).length > 0;
      }
      const page = await fetch(url, { ...headers, ...options?.headers });
      if (page.status === 304 && this.conditionalSent) {
        throw new UnchangedPayloadSignal('not-modified');
      }
      if (url === this.providerUrl) {
        this.etag = firstHeader(page.headers.etag);
        this.lastModified = firstHeader(page.headers['last-modified']);
      }
      // Length-prefixed so page boundaries count: ["ab","c"] and ["a","bc"] hash differently.
      this.hash.update(`${page.body.length}:`).update(page.body);
      // The whole payload of a single-document kind: nothing is parsed when it is the last one.
      if (shortcut && this.state.contentHash === this.contentHash()) {
        throw new UnchangedPayloadSignal('same-content');
      }
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
