import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { uniquePrefix } from '@marquee/testing';
import { SearchCache } from '../src/index.ts';
import { createRedis } from '@marquee/redis';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';

let redis: Redis;

beforeAll(async () => {
  redis = createRedis(REDIS_URL, 'fail-fast');
  await new Promise<void>((resolve) => redis.once('ready', resolve));
});

afterAll(async () => {
  await redis.quit();
});

const newCache = () =>
  new SearchCache({ redis, prefix: uniquePrefix('search-cache'), ttlSeconds: 60 });

/** A loader that counts its calls and answers after `ms`, like a slow query. */
function countingLoader(body: string, ms = 50) {
  const loader = {
    calls: 0,
    load: async () => {
      loader.calls += 1;
      await new Promise((resolve) => setTimeout(resolve, ms));
      return body;
    },
  };
  return loader;
}

describe('SearchCache', () => {
  it('makes one load for 50 concurrent identical misses, and serves them all the same bytes', async () => {
    const cache = newCache();
    const loader = countingLoader('{"events":[1,2,3]}');
    const results = await Promise.all(
      Array.from({ length: 50 }, () => cache.get('herd', loader.load)),
    );
    expect(loader.calls).toBe(1);
    for (const result of results) expect(result.body.toString()).toBe('{"events":[1,2,3]}');
    // And once stored, a later call is a hit that does not load.
    const later = await cache.get('herd', loader.load);
    expect(later.outcome).toBe('hit');
    expect(loader.calls).toBe(1);
  });

  it('loads different keys separately', async () => {
    const cache = newCache();
    const loader = countingLoader('x');
    await Promise.all([cache.get('a', loader.load), cache.get('b', loader.load)]);
    expect(loader.calls).toBe(2);
  });

  it('gives a content ETag computed at load time, equal on hits and across an unchanged reload', async () => {
    const cache = newCache();
    const first = await cache.get('k', () => Promise.resolve('same body'));
    const hit = await cache.get('k', () => Promise.resolve('never loaded'));
    expect(first.outcome).toBe('miss');
    expect(hit.outcome).toBe('hit');
    expect(hit.etag).toBe(first.etag);
    expect(first.etag).toMatch(/^"[\w-]{27}"$/);
    await cache.bumpVersion();
    const reloaded = await cache.get('k', () => Promise.resolve('same body'));
    expect(reloaded.outcome).toBe('miss');
    expect(reloaded.etag).toBe(first.etag);
    await cache.bumpVersion();
    const changed = await cache.get('k', () => Promise.resolve('another body'));
    expect(changed.etag).not.toBe(first.etag);
  });

  it('serves the last good body, marked stale, when the loader fails after a version bump', async () => {
    const cache = newCache();
    await cache.get('s', () => Promise.resolve('good'));
    await cache.bumpVersion();
    const stale = await cache.get('s', () => Promise.reject(new Error('database down')));
    expect(stale.outcome).toBe('stale');
    expect(stale.body.toString()).toBe('good');
    // Nothing good to fall back on: the failure surfaces.
    await expect(
      cache.get('never-loaded', () => Promise.reject(new Error('database down'))),
    ).rejects.toThrow('database down');
  });

  it('keeps bodies in process memory too, under versioned keys', async () => {
    const prefix = uniquePrefix('search-cache');
    const cache = new SearchCache({ redis, prefix, ttlSeconds: 60 });
    await cache.get('m', () => Promise.resolve('remembered'));
    await cache.settled();
    const stored = await redis.keys(`${prefix}:cache:entry:*`);
    expect(stored).toHaveLength(1);
    await redis.del(...stored);
    // This process still has it; another replica (or one with no memory tier) does not.
    expect((await cache.get('m', () => Promise.resolve('reloaded'))).outcome).toBe('hit');
    const replica = new SearchCache({ redis, prefix, ttlSeconds: 60, memoryBytes: 0 });
    expect((await replica.get('m', () => Promise.resolve('reloaded'))).outcome).toBe('miss');
    // A version bump reaches the memory tier at once.
    await cache.bumpVersion();
    const after = await cache.get('m', () => Promise.resolve('new'));
    expect([after.outcome, after.body.toString()]).toEqual(['miss', 'new']);
  });

  it('shares a failure among the waiters of one flight, then tries again', async () => {
    const cache = newCache();
    let calls = 0;
    const failing = async () => {
      calls += 1;
      await new Promise((resolve) => setTimeout(resolve, 20));
      throw new Error('boom');
    };
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => cache.get('f', failing)),
    );
    expect(results.every((result) => result.status === 'rejected')).toBe(true);
    expect(calls).toBe(1);
    await expect(cache.get('f', failing)).rejects.toThrow('boom');
    expect(calls).toBe(2);
  });
});
