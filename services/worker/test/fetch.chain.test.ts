// The guarded fetch chain: its links in order, each with its real collaborator (robots.txt and
// host leases in Redis, opossum breakers, HTTP to a local server).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { createLogger } from '@marquee/logger';
import {
  BreakerRegistry,
  fetchPayload,
  FetchError,
  HostBusyError,
  HostLeaseGate,
  RobotsGuard,
} from '@marquee/fetch';
import { createRedis } from '@marquee/redis';
import { startFeedServer, TEST_REDIS_URL, uniquePrefix, type FeedServer } from '@marquee/testing';
import {
  breakerLink,
  composeFetchChain,
  contentTypeLink,
  hostLeaseLink,
  httpFetch,
  passThrough,
  robotsLink,
  type FetchLink,
  type FetchRequest,
} from '../src/fetch.chain.ts';

const logger = createLogger({ service: 'chain-test', level: 'error' });
const OPTIONS = { timeoutMs: 5_000, maxBytes: 1_000_000, userAgent: 'marquee-test' };
const http = httpFetch(fetchPayload, { ...OPTIONS, addressPolicy: { allowPrivate: true } });

let redis: Redis;
let prefix: string;
let site: FeedServer;
const breakerRegistries: BreakerRegistry[] = [];

beforeAll(async () => {
  redis = createRedis(TEST_REDIS_URL, 'blocking');
  prefix = uniquePrefix('chain');
  site = await startFeedServer((request, response) => {
    if (request.url === '/robots.txt') {
      response
        .writeHead(200, { 'content-type': 'text/plain' })
        .end('User-agent: *\nDisallow: /private\n');
    } else if (request.url?.startsWith('/html')) {
      response.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>');
    } else {
      response.writeHead(200, { 'content-type': 'application/xml' }).end('<eventList/>');
    }
  });
});

afterAll(async () => {
  for (const registry of breakerRegistries) registry.shutdown();
  await site.close();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

const request = (path: string, family: FetchRequest['family'] = 'xml'): FetchRequest => ({
  url: `${site.url}${path}`,
  headers: {},
  provider: { id: randomUUID(), name: 'chained' },
  family,
});

function breakers(volumeThreshold = 2): BreakerRegistry {
  const registry = new BreakerRegistry(
    {
      timeoutMs: 5_000,
      errorThresholdPercentage: 50,
      volumeThreshold,
      resetTimeoutMs: 60_000,
      windowMs: 60_000,
    },
    () => Promise.resolve(),
    logger,
  );
  breakerRegistries.push(registry);
  return registry;
}

const none = {
  robots: passThrough,
  hostLease: passThrough,
  breaker: passThrough,
  contentType: passThrough,
};

describe('composeFetchChain', () => {
  it('runs the links outermost first: robots → host lease → breaker → content type → fetch', async () => {
    const trail: string[] = [];
    const traced =
      (name: string): FetchLink =>
      async (req, next) => {
        trail.push(`${name} in`);
        const page = await next(req);
        trail.push(`${name} out`);
        return page;
      };
    const chain = composeFetchChain(
      {
        contentType: traced('contentType'),
        breaker: traced('breaker'),
        hostLease: traced('hostLease'),
        robots: traced('robots'),
      },
      async (req) => {
        trail.push('fetch');
        return http(req);
      },
    );
    await chain(request('/feed.xml'));
    expect(trail).toEqual([
      'robots in',
      'hostLease in',
      'breaker in',
      'contentType in',
      'fetch',
      'contentType out',
      'breaker out',
      'hostLease out',
      'robots out',
    ]);
  });

  it('pass-through links leave a bare fetch', async () => {
    const page = await composeFetchChain(none, http)(request('/html', 'xml'));
    expect(page.body.toString()).toBe('<html></html>');
  });
});

describe('the links', () => {
  it('robots: an HTML page robots.txt disallows is never requested; other families are not checked', async () => {
    const guard = new RobotsGuard(
      redis,
      prefix,
      (url) => fetchPayload(url, { ...OPTIONS, addressPolicy: { allowPrivate: true } }),
      {
        userAgent: 'marquee-test',
        ttlSeconds: 60,
      },
    );
    const chain = composeFetchChain({ ...none, robots: robotsLink(guard) }, http);
    await expect(chain(request('/private/html', 'html'))).rejects.toThrow(/disallows \/private/);
    expect(site.hits.get('/private/html')).toBeUndefined();
    await chain(request('/private/feed.xml', 'xml'));
    expect(site.hits.get('/private/feed.xml')).toBe(1);
  });

  it('content type: an HTML answer to an XML kind fails permanently, inside the breaker, which does not count it', async () => {
    const registry = breakers(2);
    const chain = composeFetchChain(
      { ...none, breaker: breakerLink(registry), contentType: contentTypeLink },
      http,
    );
    const req = request('/html', 'xml');
    for (let i = 0; i < 4; i++) {
      const error = await chain(req).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(FetchError);
      expect((error as FetchError).classification).toBe('permanent');
    }
    expect(registry.state(req.provider.id)).toBe('closed');
    // An unchecked family passes.
    await expect(chain({ ...request('/html'), family: undefined })).resolves.toMatchObject({
      status: 200,
    });
  });

  it('host lease: waiting for a busy host happens outside the breaker and never trips it', async () => {
    const registry = breakers(2);
    const gate = new HostLeaseGate(redis, prefix, {
      concurrency: 1,
      minDelayMs: 0,
      leaseTtlMs: 10_000,
      maxWaitMs: 50,
    });
    const release = await gate.acquire(new URL(site.url).host);
    try {
      const chain = composeFetchChain(
        { ...none, hostLease: hostLeaseLink(gate), breaker: breakerLink(registry) },
        http,
      );
      const req = request('/busy.xml');
      for (let i = 0; i < 4; i++) await expect(chain(req)).rejects.toBeInstanceOf(HostBusyError);
      // The breaker was never called for this provider: no breaker exists for it at all.
      expect(registry.state(req.provider.id)).toBeUndefined();
      expect(site.hits.get('/busy.xml')).toBeUndefined();
    } finally {
      await release();
    }
  });
});
