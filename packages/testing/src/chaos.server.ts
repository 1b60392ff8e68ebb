import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startFeedServer, type FeedServer } from './feed.server.ts';

/** The faults the chaos provider serves, one per path (`/<fault>`). */
export const CHAOS_FAULTS = [
  'ok',
  'ok-no-validators',
  'http-500',
  'http-503-retry-after',
  'http-429-forever',
  'http-503-far-date',
  'slow-drip',
  'hang',
  'truncated',
  'invalid-xml',
  'billion-laughs',
  'html',
  'oversized',
  'redirect-loop',
  'redirect-metadata',
  'redirect-ecs-credentials',
  'redirect-nat64-metadata',
  'redirect-metadata-host',
  'robots.txt',
  'event-page',
  'nested-elements-page',
] as const;

export type ChaosFault = (typeof CHAOS_FAULTS)[number];

export interface ChaosOptions {
  /**
   * The body `/ok` serves with an ETag (304 to a matching If-None-Match) and `/ok-no-validators`
   * without one; `/truncated` cuts it. A valid feed (see `feverFeed`).
   */
  feed: Buffer;
  /** Bytes `/oversized` sends before giving up: set it above the fetcher's cap. */
  oversizedBytes?: number;
  /** Seconds `/http-503-retry-after` asks to wait. */
  retryAfterSeconds?: number;
  /**
   * Size of `/robots.txt` (404 when unset): `Disallow: /private` for every agent first, then
   * comment lines, then `Disallow: /` at the very end, past what a crawler must read.
   */
  robotsBytes?: number;
}

export interface ChaosServer extends FeedServer {
  urlOf(fault: ChaosFault): string;
  /** Bytes of `/robots.txt` written to sockets so far (a client that stops reading stops it). */
  robotsBytesSent(): number;
}

const BILLION_LAUGHS = (() => {
  const entities = ['<!ENTITY lol0 "lol">'];
  for (let level = 1; level <= 9; level++) {
    entities.push(`<!ENTITY lol${level} "${`&lol${level - 1};`.repeat(10)}">`);
  }
  return Buffer.from(
    `<?xml version="1.0"?>\n<!DOCTYPE eventList [\n${entities.join('\n')}\n]>\n` +
      '<eventList version="1.0"><output><base_event base_event_id="1" sell_mode="online" title="&lol9;">' +
      '<event event_start_date="2021-06-30T21:00:00" event_end_date="2021-06-30T22:00:00" event_id="1" ' +
      'sell_from="2020-07-01T00:00:00" sell_to="2021-06-30T20:00:00" sold_out="false"/>' +
      '</base_event></output></eventList>',
  );
})();

const XML = { 'content-type': 'application/xml; charset=utf-8' };

/** What a fault handler gets: the options, and `later`, a timer that `close()` cancels. */
interface FaultContext {
  options: ChaosOptions;
  later(ms: number, run: () => void): void;
  sent: { robots: number };
}

type FaultHandler = (
  request: IncomingMessage,
  response: ServerResponse,
  context: FaultContext,
) => void;

function serveOk(
  request: IncomingMessage,
  response: ServerResponse,
  { options }: FaultContext,
): void {
  const etag = `"${createHash('sha256').update(options.feed).digest('hex').slice(0, 16)}"`;
  if (request.headers['if-none-match'] === etag) return void response.writeHead(304).end();
  response.writeHead(200, { ...XML, etag }).end(options.feed);
}

function serveSlowDrip(
  _request: IncomingMessage,
  response: ServerResponse,
  context: FaultContext,
): void {
  // One byte every 200 ms: each byte resets an idle timer, only a whole-request deadline stops it.
  const { feed } = context.options;
  response.writeHead(200, XML);
  let sent = 0;
  const drip = () => {
    if (response.destroyed || sent >= feed.length) return void response.end();
    response.write(feed.subarray(sent, sent + 1));
    sent += 1;
    context.later(200, drip);
  };
  drip();
}

function serveTruncated(
  _request: IncomingMessage,
  response: ServerResponse,
  context: FaultContext,
): void {
  // Declares the whole feed, sends half, then drops the connection.
  const { feed } = context.options;
  response.writeHead(200, { ...XML, 'content-length': String(feed.length) });
  response.write(feed.subarray(0, Math.floor(feed.length / 2)));
  context.later(20, () => response.socket?.destroy());
}

function serveOversized(
  _request: IncomingMessage,
  response: ServerResponse,
  { options }: FaultContext,
): void {
  // No Content-Length: the cap must hold on the running count, and stop the transfer early.
  response.writeHead(200, XML);
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  let sent = 0;
  const limit = options.oversizedBytes ?? 8 * 1024 * 1024;
  const pump = () => {
    while (sent < limit && !response.destroyed) {
      sent += chunk.length;
      if (!response.write(chunk)) return void response.once('drain', pump);
    }
    response.end();
  };
  pump();
}

const ROBOTS_HEAD = 'User-agent: *\nDisallow: /private\n';
const ROBOTS_TAIL = 'User-agent: *\nDisallow: /\n';
const ROBOTS_FILLER = Buffer.from(`# ${'padding '.repeat(8190)}\n`);

/** A robots.txt of `robotsBytes` (with its Content-Length), written as fast as it is read. */
function serveHugeRobots(
  _request: IncomingMessage,
  response: ServerResponse,
  { options, sent }: FaultContext,
): void {
  const total = options.robotsBytes;
  if (total === undefined) return void response.writeHead(404).end('no robots.txt');
  response.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(total) });
  const write = (chunk: Buffer | string): boolean => {
    sent.robots += Buffer.byteLength(chunk);
    return response.write(chunk);
  };
  write(ROBOTS_HEAD);
  let left = total - ROBOTS_HEAD.length - ROBOTS_TAIL.length;
  const pump = () => {
    while (left > 0 && !response.destroyed) {
      const chunk = left >= ROBOTS_FILLER.length ? ROBOTS_FILLER : Buffer.alloc(left, 0x0a);
      left -= chunk.length;
      if (!write(chunk)) return void response.once('drain', pump);
    }
    if (!response.destroyed) response.end(ROBOTS_TAIL);
  };
  pump();
}

/** An HTML page with one JSON-LD event (for the HTML kinds, which read robots.txt). */
const EVENT_PAGE = `<!doctype html><html><head><script type="application/ld+json">
{"@context":"https://schema.org","@type":"Event","name":"Chaos gig","startDate":"2030-05-01T20:00",
 "url":"https://example.com/e/1","location":{"@type":"Place","name":"Hall","address":"London"}}
</script></head><body></body></html>`;

/**
 * 4 MB of tiny nested elements: ~520,000 nodes, more than cheerio's DOM of them fits in a 256 MB
 * heap (issue 13's attack page).
 */
let nestedElementsPage: Buffer | undefined;
const NESTED_ELEMENTS_PAGE = (): Buffer =>
  (nestedElementsPage ??= Buffer.from(
    `<!doctype html><html><body>${'<div><span>x</span><i></i></div>'.repeat(127_100)}</body></html>`,
  ));

const FAULTS: Record<ChaosFault, FaultHandler> = {
  ok: serveOk,
  'ok-no-validators': (_request, response, { options }) =>
    void response.writeHead(200, XML).end(options.feed),
  'http-500': (_request, response) =>
    void response.writeHead(500, { 'content-type': 'text/plain' }).end('internal error'),
  'http-503-retry-after': (_request, response, { options }) =>
    void response
      .writeHead(503, { 'retry-after': String(options.retryAfterSeconds ?? 2) })
      .end('busy'),
  // A provider that only ever says "come back in 3,170 years".
  'http-429-forever': (_request, response) =>
    void response.writeHead(429, { 'retry-after': '99999999999' }).end('slow down'),
  'http-503-far-date': (_request, response) =>
    void response
      .writeHead(503, { 'retry-after': 'Fri, 31 Dec 9999 23:59:59 GMT' })
      .end('back later'),
  'slow-drip': serveSlowDrip,
  // Headers never come; the socket stays open until the client gives up or close().
  hang: () => undefined,
  truncated: serveTruncated,
  'invalid-xml': (_request, response) =>
    void response
      .writeHead(200, XML)
      .end('<eventList><output><base_event base_event_id="1"><event'),
  'billion-laughs': (_request, response) => void response.writeHead(200, XML).end(BILLION_LAUGHS),
  html: (_request, response) =>
    void response
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end('<!doctype html><html><body>Maintenance</body></html>'),
  oversized: serveOversized,
  'redirect-loop': (_request, response) =>
    void response.writeHead(302, { location: '/redirect-loop' }).end(),
  'redirect-metadata': (_request, response) =>
    void response.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end(),
  // Metadata endpoints in forms a naive SSRF guard lets through.
  'redirect-ecs-credentials': (_request, response) =>
    void response.writeHead(302, { location: 'http://169.254.170.2/v2/credentials/' }).end(),
  'redirect-nat64-metadata': (_request, response) =>
    void response.writeHead(302, { location: 'http://[64:ff9b::a9fe:a9fe]/latest/' }).end(),
  'redirect-metadata-host': (_request, response) =>
    void response
      .writeHead(302, { location: 'http://metadata.google.internal/computeMetadata/v1/' })
      .end(),
  'robots.txt': serveHugeRobots,
  'nested-elements-page': (_request, response) =>
    void response.writeHead(200, { 'content-type': 'text/html' }).end(NESTED_ELEMENTS_PAGE()),
  'event-page': (_request, response) =>
    void response.writeHead(200, { 'content-type': 'text/html' }).end(EVENT_PAGE),
};

/**
 * A misbehaving provider on 127.0.0.1 for fault-injection tests. Every fault stops by itself or
 * when the server closes (hanging and dripping responses are bounded by the client's deadline and
 * by `close()`, which drops every connection).
 */
export async function startChaosServer(options: ChaosOptions): Promise<ChaosServer> {
  const timers = new Set<NodeJS.Timeout>();
  const context: FaultContext = {
    options,
    sent: { robots: 0 },
    later: (ms, run) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        run();
      }, ms);
      timers.add(timer);
    },
  };
  const server = await startFeedServer((request, response) => {
    const fault = new URL(request.url ?? '/', 'http://chaos').pathname.slice(1);
    const handler = Object.hasOwn(FAULTS, fault) ? FAULTS[fault as ChaosFault] : undefined;
    if (handler === undefined) return void response.writeHead(404).end('no such fault');
    handler(request, response, context);
  });
  return {
    ...server,
    urlOf: (fault) => `${server.url}/${fault}`,
    robotsBytesSent: () => context.sent.robots,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await server.close();
    },
  };
}

/** A valid Fever feed of `count` online events ("<prefix> 1"…), ids 1…count. */
export function feverFeed(count: number, titlePrefix = 'Event'): Buffer {
  const items: string[] = [];
  for (let id = 1; id <= count; id++) {
    const day = String((id % 28) + 1).padStart(2, '0');
    items.push(
      `<base_event base_event_id="${id}" sell_mode="online" title="${titlePrefix} ${id}">` +
        `<event event_start_date="2030-03-${day}T20:00:00" event_end_date="2030-03-${day}T22:00:00" event_id="${id}" sell_from="2030-01-01T00:00:00" sell_to="2030-03-${day}T19:00:00" sold_out="false">` +
        `<zone zone_id="1" capacity="10" price="${10 + id}.00" name="A" numbered="false"/></event></base_event>`,
    );
  }
  return Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?>\n<eventList version="1.0"><output>${items.join('')}</output></eventList>`,
  );
}
