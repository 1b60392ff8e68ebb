import type { IncomingMessage, ServerResponse } from 'node:http';
import { startFeedServer, type FeedServer } from './feed.server.ts';

/** One event as the stand-in APIs list it. */
export interface ApiEvent {
  id: string;
  title: string;
  start: string;
  venue: string;
}

/** `count` events, one a day from 2026-09-01, ids `<prefix>-1`…`<prefix>-<count>`. */
export function apiEvents(count: number, prefix: string): ApiEvent[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `${prefix}-${index + 1}`,
    title: `${prefix} night ${index + 1}`,
    start: new Date(Date.UTC(2026, 8, 1 + index, 20)).toISOString(),
    venue: 'Sala Razzmatazz',
  }));
}

/** A paged stand-in API: what it answered, per page, as a test asserts it. */
export interface PagedApiServer extends FeedServer {
  /** Answers per page (`page=3`, `skip=40`) and status: `page=3 200` → 1. */
  answers: Map<string, number>;
  /** The events it serves; a test may change them between syncs. */
  events: ApiEvent[];
  /** Pages (`page=3`, `skip=40`) answered with a failure the next time they are asked for. */
  failNext: Set<string>;
  /** How long it takes to answer each request (0: at once); a test may change it. */
  delayMs: number;
  /** Holds every answer back until release(): a walk stays running meanwhile. */
  hold(): void;
  /** Sends the answers held back, and answers as before from then on (close() does too). */
  release(): void;
}

type PageAnswer = { status: number; headers?: Record<string, string>; body?: unknown };

async function startPagedServer(
  events: ApiEvent[],
  pageOf: (query: URLSearchParams) => string,
  answer: (request: IncomingMessage, query: URLSearchParams, page: string) => PageAnswer,
): Promise<PagedApiServer> {
  const answers = new Map<string, number>();
  const failNext = new Set<string>();
  let held: (() => void)[] | undefined;
  const release = () => {
    for (const send of held?.splice(0) ?? []) send();
    held = undefined;
  };
  const server = await startFeedServer((request, response: ServerResponse) => {
    const query = new URL(request.url ?? '/', 'http://api').searchParams;
    const page = pageOf(query);
    const { status, headers = {}, body } = answer(request, query, page);
    const key = `${page} ${status}`;
    answers.set(key, (answers.get(key) ?? 0) + 1);
    const send = () => {
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(body === undefined ? '' : JSON.stringify(body));
    };
    if (held) held.push(send);
    // Read per request: a test may change it between requests.
    else if (paged.delayMs > 0) setTimeout(send, paged.delayMs);
    else send();
  });
  const close = server.close.bind(server);
  const paged: PagedApiServer = Object.assign(server, {
    answers,
    failNext,
    events,
    delayMs: 0,
    hold: () => void (held ??= []),
    release,
    close: () => {
      release();
      return close();
    },
  });
  return paged;
}

/**
 * Shaped like the Discogs API: `page`/`per_page` (1-based), a `pagination` block with `pages`,
 * `items` and `urls.next`, `X-Discogs-Ratelimit*` headers, and a request budget per window
 * (Discogs: 25 a minute without a token, 60 with one). Past the budget it answers 429 with
 * `Retry-After` in seconds until the window ends, whatever the page. A page in `failNext` is
 * answered 429 once.
 */
export async function startDiscogsLikeServer(options: {
  events: ApiEvent[];
  limit: number;
  windowMs: number;
  /** Events a page when a request names no `per_page` (Discogs: 50). */
  perPage?: number;
}): Promise<PagedApiServer> {
  let windowStart = -Infinity;
  let used = 0;
  const server: PagedApiServer = await startPagedServer(
    options.events,
    (query) => `page=${query.get('page') ?? '1'}`,
    (_request, query, page) => {
      const now = Date.now();
      if (now - windowStart >= options.windowMs) [windowStart, used] = [now, 0];
      const retryAfter = String(
        Math.max(1, Math.ceil((windowStart + options.windowMs - now) / 1000)),
      );
      const limits = {
        'x-discogs-ratelimit': String(options.limit),
        'x-discogs-ratelimit-used': String(Math.min(used + 1, options.limit)),
        'x-discogs-ratelimit-remaining': String(Math.max(0, options.limit - used - 1)),
      };
      if (used >= options.limit || server.failNext.delete(page)) {
        return {
          status: 429,
          headers: { ...limits, 'retry-after': retryAfter },
          body: { message: 'You are making requests too quickly.' },
        };
      }
      used += 1;
      const number = Number(query.get('page') ?? 1);
      const perPage = Number(query.get('per_page') ?? options.perPage ?? 50);
      const all = server.events;
      const pages = Math.max(1, Math.ceil(all.length / perPage));
      const next = number < pages ? `/events?page=${number + 1}&per_page=${perPage}` : undefined;
      const results = all.slice((number - 1) * perPage, number * perPage).map((event) => ({
        id: event.id,
        title: event.title,
        date: event.start,
        venue: { name: event.venue },
      }));
      const pagination = {
        page: number,
        pages,
        per_page: perPage,
        items: all.length,
        urls: { ...(next && { next }) },
      };
      return { status: 200, headers: limits, body: { pagination, results } };
    },
  );
  return server;
}

/**
 * Shaped like the vivenu API: `skip`/`top`, a Bearer token, `{rows, total}`. A page in `failNext`
 * (`skip=40`) is answered 502 once, as a gateway in front of such an API does.
 */
export async function startVivenuLikeServer(options: {
  events: ApiEvent[];
  token: string;
}): Promise<PagedApiServer> {
  const server: PagedApiServer = await startPagedServer(
    options.events,
    (query) => `skip=${query.get('skip') ?? '0'}`,
    (request, query, page) => {
      if (request.headers.authorization !== `Bearer ${options.token}`) {
        return { status: 401, body: { message: 'Unauthorized' } };
      }
      if (server.failNext.delete(page)) return { status: 502, body: { message: 'Bad Gateway' } };
      const skip = Number(query.get('skip') ?? 0);
      const top = Number(query.get('top') ?? 20);
      const rows = server.events.slice(skip, skip + top).map((event) => ({
        _id: event.id,
        name: event.title,
        start: event.start,
        locationName: event.venue,
      }));
      return { status: 200, body: { rows, total: server.events.length } };
    },
  );
  return server;
}
