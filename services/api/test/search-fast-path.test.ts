import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createMetricsRegistry, HTTP_DURATION_METRIC, type Registry } from '@marquee/metrics';
import { CACHE_METRIC } from '../src/cache.metrics.ts';
import { createProvider, record, seedProvider, startApi, type ApiFixture } from './api.fixture.ts';

// The same app twice over one database and one cache prefix (so one quota per key): `fast` as
// deployed, `express` with the fast path off. Whatever the fast path answers must be exactly
// what Express answers: status, header names in the same order, header values, bytes.

const ORIGIN = 'https://allowed.example';
const QUERY = '/search?starts_at=2021-06-01&ends_at=2021-07-31';

interface RawAnswer {
  status: number;
  headers: [string, string][];
  body: string;
}

let fast: ApiFixture;
let express: ApiFixture;
let fastMetrics: Registry;
let key: string;

function send(
  base: string,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const pairs: [string, string][] = [];
        for (let at = 0; at < res.rawHeaders.length; at += 2) {
          pairs.push([res.rawHeaders[at]!, res.rawHeaders[at + 1]!]);
        }
        resolve({
          status: res.statusCode!,
          headers: pairs,
          body: Buffer.concat(chunks).toString(),
        });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

// Values that differ between any two requests, whichever path answers them.
const VARYING = new Set(['date', 'ratelimit-remaining', 'ratelimit-reset', 'retry-after']);

function comparable(answer: RawAnswer, requestIdGiven: boolean): RawAnswer {
  return {
    ...answer,
    headers: answer.headers.map(([name, value]) => {
      const lower = name.toLowerCase();
      if (VARYING.has(lower)) return [name, '<varies>'];
      if (lower === 'x-request-id' && !requestIdGiven) {
        expect(value).toMatch(/^[0-9a-f-]{36}$/);
        return [name, '<uuid>'];
      }
      return [name, value];
    }),
  };
}

async function fastPathCount(): Promise<number> {
  // By name, as dashboards and alerts find it.
  const metric = fastMetrics.getSingleMetric('marquee_api_fast_path_requests_total');
  const { values } = await metric!.get();
  return values[0]?.value ?? 0;
}

/** Sends the same request to both apps (hot in both); returns the fast app's answer. */
async function bothAnswer(
  path: string,
  headers: Record<string, string>,
  method = 'GET',
): Promise<{ fromFast: RawAnswer; fromExpress: RawAnswer; fastPathTook: boolean }> {
  const before = await fastPathCount();
  const fromFast = await send(fast.url, path, headers, method);
  const fastPathTook = (await fastPathCount()) === before + 1;
  const fromExpress = await send(express.url, path, headers, method);
  const requestIdGiven = 'X-Request-Id' in headers;
  return {
    fromFast: comparable(fromFast, requestIdGiven),
    fromExpress: comparable(fromExpress, requestIdGiven),
    fastPathTook,
  };
}

beforeAll(async () => {
  const access = { publicQuotaPerMinute: 1_000, keyQuotaPerMinute: 1_000 };
  fastMetrics = createMetricsRegistry('api');
  // Hot answers need the catalog version known in process; pub/sub keeps it so here, and a
  // long staleness bound keeps a loaded machine's pauses from turning a hot query cold.
  fast = await startApi('fast-path', {
    versionMaxAgeMs: 600_000,
    access,
    app: { metrics: fastMetrics, corsOrigins: [ORIGIN] },
  });
  express = await startApi('fast-path-express', {
    databaseUrl: fast.databaseUrl,
    prefix: fast.prefix,
    versionMaxAgeMs: 600_000,
    access,
    app: { metrics: createMetricsRegistry('api'), corsOrigins: [ORIGIN], fastPath: false },
  });
  await seedProvider(fast, 'fast', 30, 'f');
  ({ key } = await fast.keys.create('fast-path', 1_000));
  // First answers (misses) come from Express in both apps and make the query hot.
  for (const api of [fast, express]) {
    expect((await send(api.url, QUERY, { 'X-API-Key': key })).status).toBe(200);
  }
});

afterAll(async () => {
  await express?.close();
  await fast?.close();
});

describe('the /search fast path', () => {
  const variants: [string, Record<string, string>, string][] = [
    ['a keyed GET', { 'X-API-Key': key! }, 'GET'],
    ['a GET without a key (per-IP quota)', {}, 'GET'],
    ['a HEAD', { 'X-API-Key': key! }, 'HEAD'],
    ['an echoed request id', { 'X-Request-Id': 'trace-42.a:b' }, 'GET'],
    ['an allowed Origin', { Origin: ORIGIN }, 'GET'],
    ['a foreign Origin', { Origin: 'https://elsewhere.example' }, 'GET'],
    ['If-Modified-Since alone', { 'If-Modified-Since': new Date().toUTCString() }, 'GET'],
    ['a wrong key (401)', { 'X-API-Key': 'mk_000000000000_not-a-key' }, 'GET'],
  ];

  it.each(variants)('answers %s exactly as Express does', async (_name, given, method) => {
    // `key` is assigned in beforeAll, after the table above was built.
    const headers = Object.fromEntries(
      Object.entries(given).map(([name, value]) => [name, value === undefined ? key : value]),
    );
    const { fromFast, fromExpress, fastPathTook } = await bothAnswer(QUERY, headers, method);
    expect(fastPathTook).toBe(true);
    expect(fromFast).toEqual(fromExpress);
  });

  it('answers a matching If-None-Match with the same 304, and a stale one with the body', async () => {
    const { headers } = await send(fast.url, QUERY);
    const etag = headers.find(([name]) => name === 'ETag')?.[1];
    expect(etag).toMatch(/^"/);
    for (const validator of [etag!, `W/${etag!}`, '"something-else"']) {
      const { fromFast, fromExpress, fastPathTook } = await bothAnswer(QUERY, {
        'If-None-Match': validator,
      });
      expect(fastPathTook).toBe(true);
      expect(fromFast).toEqual(fromExpress);
      expect(fromFast.status).toBe(validator === '"something-else"' ? 200 : 304);
    }
  });

  it('refuses a key over its quota with the same 429 as Express', async () => {
    const { key: tight } = await fast.keys.create('tight', 2);
    // Both apps count against one quota in Redis: make the query hot in each, then exhaust it.
    await send(fast.url, QUERY, { 'X-API-Key': tight });
    await send(express.url, QUERY, { 'X-API-Key': tight });
    const { fromFast, fromExpress, fastPathTook } = await bothAnswer(QUERY, { 'X-API-Key': tight });
    expect(fastPathTook).toBe(true);
    expect(fromFast.status).toBe(429);
    expect(fromFast).toEqual(fromExpress);
    expect(JSON.parse(fromFast.body)).toMatchObject({ error: { code: 'rate_limited' } });
  });

  it('leaves everything else to Express', async () => {
    const before = await fastPathCount();
    const others: [string, string][] = [
      ['GET', '/search?starts_at=2021-06-02'], // not seen before: a miss
      ['GET', '/search?starts_at=not-a-date'], // invalid: 400 from Express
      ['GET', '/search/?starts_at=2021-06-01&ends_at=2021-07-31'],
      ['GET', '/searching?starts_at=2021-06-01&ends_at=2021-07-31'],
      ['POST', QUERY],
      ['OPTIONS', QUERY],
      ['GET', '/healthz'],
    ];
    const statuses = [];
    for (const [method, path] of others) {
      statuses.push((await send(fast.url, path, { Origin: ORIGIN }, method)).status);
    }
    expect(statuses).toEqual([200, 400, 200, 404, 405, 204, 200]);
    expect(await fastPathCount()).toBe(before);
    // A body makes even a hot query Express's: it refuses it.
    const withBody = await send(fast.url, QUERY, { 'Transfer-Encoding': 'chunked' });
    expect(withBody.status).toBe(413);
    expect(await fastPathCount()).toBe(before);
  });

  it('stops answering an entry once the catalog moves on, and serves the new data', async () => {
    const provider = await createProvider(fast, 'late');
    await fast.events.upsertMany(provider, [record({ externalKey: 'late' })], new Date());
    await fast.cache.bumpVersion();
    const before = await fastPathCount();
    const answer = await send(fast.url, QUERY);
    expect(await fastPathCount()).toBe(before);
    expect(answer.headers).toContainEqual(['X-Cache', 'miss']);
    expect((JSON.parse(answer.body) as { data: { events: unknown[] } }).data.events).toHaveLength(
      31,
    );
    await send(fast.url, QUERY);
    expect(await fastPathCount()).toBe(before + 1);
  });

  it('is measured and logged like any request', async () => {
    const histogram = async () =>
      (await fastMetrics.getSingleMetric(HTTP_DURATION_METRIC)!.get()).values.find(
        (value) =>
          (value as { metricName?: string }).metricName === `${HTTP_DURATION_METRIC}_count` &&
          value.labels.route === '/search' &&
          value.labels.status_code === '200',
      )?.value ?? 0;
    const hits = async () =>
      (await fastMetrics.getSingleMetric(CACHE_METRIC)!.get()).values.find(
        (value) => value.labels.route === '/search' && value.labels.outcome === 'hit',
      )?.value ?? 0;
    const [durationsBefore, hitsBefore, fastBefore] = [
      await histogram(),
      await hits(),
      await fastPathCount(),
    ];
    await send(fast.url, QUERY, { 'X-Request-Id': 'logged-by-fast-path' });
    expect(await fastPathCount()).toBe(fastBefore + 1);
    expect(await histogram()).toBe(durationsBefore + 1);
    expect(await hits()).toBe(hitsBefore + 1);
    expect(fast.logs()).toContainEqual(
      expect.objectContaining({
        message: 'request',
        requestId: 'logged-by-fast-path',
        method: 'GET',
        path: '/search',
        status: 200,
      }),
    );
  });
});
