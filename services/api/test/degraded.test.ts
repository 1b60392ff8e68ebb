import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FAIL_FAST_COMMAND_TIMEOUT_MS } from '@marquee/redis';
import { createProvider, json, record, startApi, type ApiFixture } from './api.fixture.ts';

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
    const health = await api.get('/healthz');
    expect(health.status).toBe(200);
    const ready = await api.get('/readyz');
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({
      status: 'unavailable',
      checks: { database: 'down', redis: 'up' },
    });
  });

  it('answers a search with the 500 envelope, no internals, and logs the error under the request id', async () => {
    const response = await api.get('/search');
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({
      data: null,
      error: { code: 'internal', message: 'internal error' },
    });
    const requestId = response.headers.get('x-request-id');
    const logged = api
      .logs()
      .find((line) => line.level === 'error' && line.requestId === requestId);
    expect(logged).toMatchObject({
      message: 'request failed',
      path: '/search',
      error: { stack: expect.any(String) },
    });
  });
});
