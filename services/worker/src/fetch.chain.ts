import {
  assertContentType,
  type ContentFamily,
  type FetchedPayload,
  type FetchOptions,
  type fetchPayload,
} from '@marquee/fetch';

/** One request of a sync, as it travels down the fetch chain. */
export interface FetchRequest {
  url: string;
  headers: Record<string, string>;
  /** The provider the request is made for: its breaker, its host's lease. */
  provider: { id: string; name: string };
  /** What the provider's kind parses (robots.txt and the content type depend on it). */
  family: ContentFamily | undefined;
  /** The sync's share of the payload budget (WORKER_MAX_INFLIGHT_MB), asked as the body arrives. */
  reserve?: (bytes: number) => boolean;
  /** Aborts the HTTP request under way (the provider was removed). */
  signal?: AbortSignal;
}

export type Fetcher = (request: FetchRequest) => Promise<FetchedPayload>;

/** A step of the chain: guards, waits or checks around `next`, the rest of the chain. */
export type FetchLink = (request: FetchRequest, next: Fetcher) => Promise<FetchedPayload>;

/** The chain's links, outermost first. Each may be replaced (a test passes `passThrough`). */
export interface FetchLinks {
  robots: FetchLink;
  hostLease: FetchLink;
  breaker: FetchLink;
  contentType: FetchLink;
}

/**
 * The order of the links: robots.txt is read before a host lease is taken (it takes its own),
 * waiting for the host is not the provider's failure so the breaker sits inside the lease, and
 * the content type is checked on the answer, inside the breaker (a permanent error it ignores).
 */
const FETCH_LINK_ORDER = ['robots', 'hostLease', 'breaker', 'contentType'] as const;

export const passThrough: FetchLink = (request, next) => next(request);

export function composeFetchChain(links: FetchLinks, fetch: Fetcher): Fetcher {
  return FETCH_LINK_ORDER.reduceRight<Fetcher>(
    (next, name) => (request) => links[name](request, next),
    fetch,
  );
}

/** The chain guarded by its collaborators; a link given in `links` replaces the one built here. */
export function guardedFetchChain(
  guards: {
    robots: Parameters<typeof robotsLink>[0];
    hostGate: Parameters<typeof hostLeaseLink>[0];
    breakers: Parameters<typeof breakerLink>[0];
  },
  fetch: Fetcher,
  links: Partial<FetchLinks> = {},
): Fetcher {
  return composeFetchChain(
    {
      robots: links.robots ?? robotsLink(guards.robots),
      hostLease: links.hostLease ?? hostLeaseLink(guards.hostGate),
      breaker: links.breaker ?? breakerLink(guards.breakers),
      contentType: links.contentType ?? contentTypeLink,
    },
    fetch,
  );
}

/** robots.txt (RobotsGuard) for HTML kinds: a disallowed page is never requested. */
export function robotsLink(robots: { assertAllowed(url: string): Promise<void> }): FetchLink {
  return async (request, next) => {
    if (request.family === 'html') await robots.assertAllowed(request.url);
    return next(request);
  };
}

/** Per-host concurrency and spacing shared by every worker (HostLeaseGate). */
export function hostLeaseLink(gate: {
  around<T>(url: string, call: () => Promise<T>): Promise<T>;
}): FetchLink {
  return (request, next) => gate.around(request.url, () => next(request));
}

/** The provider's circuit breaker (BreakerRegistry): open, it throws without calling `next`. */
export function breakerLink(breakers: {
  run<T>(provider: { id: string; name: string }, call: () => Promise<T>): Promise<T>;
}): FetchLink {
  return (request, next) => breakers.run(request.provider, () => next(request));
}

/** An answer that cannot be the kind's document (an HTML login page for a feed) is permanent. */
export const contentTypeLink: FetchLink = async (request, next) => {
  const page = await next(request);
  if (request.family && page.status !== 304) {
    assertContentType(request.family, page.headers['content-type'], request.url);
  }
  return page;
};

/** The end of the chain: the HTTP request itself, with the worker's limits. */
export function httpFetch(
  fetch: typeof fetchPayload,
  options: Omit<FetchOptions, 'headers'>,
): Fetcher {
  return (request) =>
    fetch(request.url, {
      ...options,
      headers: request.headers,
      ...(request.reserve && { reserve: request.reserve }),
      ...(request.signal && { signal: request.signal }),
    });
}
