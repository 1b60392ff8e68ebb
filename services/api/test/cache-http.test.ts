import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EventRepository, type SearchWindow } from '@marquee/db';
import { seedProvider, startApi, type ApiFixture } from './api.fixture.ts';

/** The real repository, counting the `/search` queries that reach Postgres. */
class CountingEvents extends EventRepository {
  queries = 0;
  override async searchJson(window: SearchWindow): Promise<string> {
    this.queries += 1;
    return super.searchJson(window);
  }
}

let api: ApiFixture;
let counting: CountingEvents;

beforeAll(async () => {
  api = await startApi('cache-http');
  counting = new CountingEvents(api.db);
  await seedProvider(api, 'cached', 200, 'e');
});

afterAll(async () => {
  await api.close();
});

describe('HTTP caching', () => {
  it('answers a herd of 50 identical concurrent misses with one database query', async () => {
    const herd = await startApi('cache-herd', { app: { events: counting } });
    try {
      await seedProvider(herd, 'herd', 500, 'h');
      const responses = await Promise.all(
        Array.from({ length: 50 }, () => herd.get('/search?starts_at=2021-01-01')),
      );
      const bodies = await Promise.all(responses.map((response) => response.text()));
      expect(responses.map((response) => response.status)).toEqual(Array(50).fill(200));
      expect(new Set(bodies).size).toBe(1);
      expect(counting.queries).toBe(1);
    } finally {
      await herd.close();
    }
  });

  it('sends ETag and Cache-Control, and 304 with no body to a matching If-None-Match', async () => {
    const first = await api.get('/search?starts_at=2021-06-01');
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(first.headers.get('cache-control')).toBe('public, max-age=5, stale-if-error=86400');
    const body = await first.text();

    const again = await api.get('/search?starts_at=2021-06-01', { 'If-None-Match': etag! });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect(again.headers.get('etag')).toBe(etag);

    const listed = await api.get('/search?starts_at=2021-06-01', {
      'If-None-Match': `"other", ${etag!}`,
    });
    expect(listed.status).toBe(304);

    const other = await api.get('/search?starts_at=2021-06-01', { 'If-None-Match': '"nope"' });
    expect(other.status).toBe(200);
    expect(await other.text()).toBe(body);
  });

  it('keeps the ETag when ingestion bumps the version without changing this answer', async () => {
    const before = await api.get('/search?starts_at=2021-06-02');
    await before.text();
    await api.cache.bumpVersion();
    const after = await api.get('/search?starts_at=2021-06-02');
    expect(after.headers.get('x-cache')).toBe('miss');
    expect(after.headers.get('etag')).toBe(before.headers.get('etag'));
  });

  it('serves ETags on /v1/events/search too', async () => {
    const first = await api.get('/v1/events/search?limit=5');
    const etag = first.headers.get('etag')!;
    await first.text();
    const again = await api.get('/v1/events/search?limit=5', { 'If-None-Match': etag });
    expect(again.status).toBe(304);
  });

  it('serves the last good answer, marked stale, while Postgres is unreachable', async () => {
    const path = '/search?starts_at=2021-06-03';
    const warm = await api.get(path);
    const good = await warm.text();
    // Ingestion moved on: the current version has no entry for this window.
    await api.cache.bumpVersion();

    const broken = await startApi('cache-broken-db', {
      databaseUrl: `postgresql://postgres@127.0.0.1:5432/marquee_missing_${randomBytes(4).toString('hex')}`,
      prefix: api.prefix,
    });
    try {
      const stale = await broken.get(path);
      expect(stale.status).toBe(200);
      expect(stale.headers.get('x-cache')).toBe('stale');
      expect(stale.headers.get('warning')).toBe('110 - "Response is Stale"');
      expect(stale.headers.get('cache-control')).toBe('public, max-age=0, must-revalidate');
      expect(await stale.text()).toBe(good);
      // A window never answered before has nothing to fall back on.
      const cold = await broken.get('/search?starts_at=2019-01-01');
      expect(cold.status).toBe(503);
      expect(cold.headers.get('retry-after')).toBe('5');
    } finally {
      await broken.close();
    }
  });
});
