import { createHash } from 'node:crypto';
import type { ProviderFetchState } from '@marquee/db';
import type { FetchedPayload } from '@marquee/fetch';

function firstHeader(value: string | string[] | undefined): string | null {
  const text = Array.isArray(value) ? value[0] : value;
  return text === undefined || text === '' ? null : text;
}

/**
 * What one sync learns from its fetches, in fetch order: the content hash of every body, the
 * validators of the provider's URL, and whether the conditional GET was answered 304. With
 * `conditional`, the first request of the provider's URL carries the last applied payload's
 * validators (ETag, Last-Modified). It records facts only; what they mean is `decide`'s.
 */
export class PayloadRecorder {
  private readonly hash = createHash('sha256');
  private providerUrlRequested = false;
  private conditionalSent = false;
  /** The provider answered 304 to the conditional GET: the payload is the last applied one. */
  notModified = false;
  etag: string | null = null;
  lastModified: string | null = null;

  constructor(
    private readonly providerUrl: string,
    private readonly applied: ProviderFetchState | null,
    private readonly conditional: boolean,
  ) {}

  /** Headers to add to a request of `url` (call once per request, before sending it). */
  headersFor(url: string): Record<string, string> {
    const headers: Record<string, string> = {};
    const first = url === this.providerUrl && !this.providerUrlRequested;
    this.providerUrlRequested ||= first;
    if (first && this.conditional && this.applied) {
      if (this.applied.etag) headers['if-none-match'] = this.applied.etag;
      if (this.applied.lastModified) headers['if-modified-since'] = this.applied.lastModified;
      this.conditionalSent = Object.keys(headers).length > 0;
    }
    return headers;
  }

  record(url: string, page: FetchedPayload): void {
    if (page.status === 304 && this.conditionalSent) {
      this.notModified = true;
      return;
    }
    if (url === this.providerUrl) {
      this.etag = firstHeader(page.headers.etag);
      this.lastModified = firstHeader(page.headers['last-modified']);
    }
    // Length-prefixed so page boundaries count: ["ab","c"] and ["a","bc"] hash differently.
    this.hash.update(`${page.body.length}:`).update(page.body);
  }

  /** SHA-256 of every body fetched so far, in order. */
  contentHash(): string {
    return this.hash.copy().digest('hex');
  }
}
