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
  /** The hash chain so far: each body's hash covers the chain before it. */
  private chain: string | undefined;
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
    /** The chain over the bodies an earlier attempt of a resumed walk read. */
    resumedFrom?: string,
  ) {
    this.chain = resumedFrom;
  }

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
    // Chained, so a walk resumed from a checkpoint (which keeps the chain) hashes as one that
    // never stopped; a single document's hash is SHA-256 of `<length>:<body>`.
    this.chain = createHash('sha256')
      .update(this.chain ?? '')
      .update(`${page.body.length}:`)
      .update(page.body)
      .digest('hex');
  }

  /** The hash chain over every body fetched so far, in order (SHA-256 of nothing before any). */
  contentHash(): string {
    return this.chain ?? createHash('sha256').digest('hex');
  }
}
