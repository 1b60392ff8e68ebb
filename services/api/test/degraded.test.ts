import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FAIL_FAST_COMMAND_TIMEOUT_MS } from '@marquee/redis';
import { createProvider, json, probes, record, startApi, type ApiFixture } from './api.fixture.ts';

// Nothing listens on port 1: connections are refused at once, as with a Redis that is down.
const DEAD_REDIS = 'redis://127.0.0.1:1/0';

describe('with Redis down', () => {
  let api: ApiFixture;

  beforeAll(async () => {
    api = await startApi('no-redis', { redisUrl: DEAD_REDIS });
    const provider = await createProvider(api, 'solo');
    await api.events.upsertMany(
      provider,
      [record({ externalKey: '1', title: 'Still served' })],
      new Date(),
    );
  });

  afterAll(async () => {
    await api.close();
  });

  it('answers /search from Postgres, quickly, with X-Cache: bypass', async () => {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const started = Date.now();
      const response = await api.get('/search?starts_at=2021-06-01');
      expect(response.status).toBe(200);
      expect(response.headers.get('x-cache')).toBe('bypass');
      const body = await json<{ events: { title: string }[] }>(response);
      expect(body.data?.events.map((event) => event.title)).toEqual(['Still served']);
      // Not waiting on Redis: a request that did would take at least its command timeout.
      expect(Date.now() - started).toBeLessThan(FAIL_FAST_COMMAND_TIMEOUT_MS);
    }
  });

  it('answers /v1/events/search with X-Cache: bypass', async () => {
    const response = await api.get('/v1/events/search?provider=solo');
    expect(response.status).toBe(200);
    expect(response.headers.get('x-cache')).toBe('bypass');
  });

  it('reports itself degraded but ready', async () => {
    const response = await api.get('/readyz');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: 'degraded',
      checks: { database: 'up', redis: 'down' },
    });
  });
});

describe('with the database down', () => {
  let api: ApiFixture;

  beforeAll(async () => {
    api = await startApi('no-db', {
      databaseUrl: `postgresql://postgres@127.0.0.1:5432/marquee_missing_${randomBytes(4).toString('hex')}`,
    });
  });

  afterAll(async () => {
    await api.close();
  });

  it('is alive but not ready', async () => {
    expect(await probes(api)).toEqual({
      health: { status: 200, body: { status: 'ok' } },
      ready: {
        status: 503,
        body: { status: 'unavailable', checks: { database: 'down', redis: 'up' } },
      },
    });
  });

  it('answers uncached requests with 503, Retry-After and the envelope, and logs a warning under the request id', async () => {
    for (const path of [
      '/search',
      '/v1/events/search?q=x',
      '/v1/events/7d92c0d4-8cea-56be-ae9b-a8034eeb45a9',
    ]) {
      const response = await api.get(path);
      expect({ path, status: response.status }).toEqual({ path, status: 503 });
      expect(response.headers.get('retry-after')).toBe('5');
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(JSON.parse(await response.text())).toEqual({
        data: null,
        error: { code: 'unavailable', message: 'the catalog is unavailable; retry later' },
      });
      const requestId = response.headers.get('x-request-id');
      const logged = api
        .logs()
        .find((line) => line.requestId === requestId && line.level !== 'http');
      expect(logged).toMatchObject({
        level: 'warn',
        message: 'catalog unavailable',
        path: path.split('?')[0],
      });
    }
    expect(api.logs().some((line) => line.level === 'error')).toBe(false);
  });
});

describe('with PostgreSQL refusing connections', () => {
  let api: ApiFixture;

  beforeAll(async () => {
    // Nothing listens on port 1: as a server that is down or restarting.
    api = await startApi('pg-refused', {
      databaseUrl: 'postgresql://postgres@127.0.0.1:1/marquee',
    });
  });

  afterAll(async () => {
    await api.close();
  });

  it('answers 503 with Retry-After, and so does an API key lookup', async () => {
    const search = await api.get('/search?starts_at=2021-01-01');
    expect(search.status).toBe(503);
    expect(search.headers.get('retry-after')).toBe('5');
    expect(await search.json()).toMatchObject({ error: { code: 'unavailable' } });
    const keyed = await api.get('/v1/events/search', { 'X-API-Key': 'mk_000000000000_any' });
    expect(keyed.status).toBe(503);
    expect(keyed.headers.get('retry-after')).toBe('5');
    expect((await api.get('/readyz')).status).toBe(503);
  });
});
