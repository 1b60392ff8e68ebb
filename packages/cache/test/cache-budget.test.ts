import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { uniquePrefix } from '@marquee/testing';
import { createRedis } from '@marquee/redis';
import { SearchCache } from '../src/index.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const KIB = 1024;

let redis: Redis;
const prefixes: string[] = [];

beforeAll(async () => {
  redis = createRedis(REDIS_URL, 'fail-fast');
  await new Promise<void>((resolve) => redis.once('ready', resolve));
});

afterAll(async () => {
  for (const prefix of prefixes) {
    const keys = await redis.keys(`${prefix}:cache:*`);
    if (keys.length > 0) await redis.del(...keys);
  }
  await redis.quit();
});

function budgeted(maxBytes: number, memoryBytes = 0): { cache: SearchCache; prefix: string } {
  const prefix = uniquePrefix('cache-budget');
  prefixes.push(prefix);
  return {
    cache: new SearchCache({ redis, prefix, ttlSeconds: 60, maxBytes, memoryBytes }),
    prefix,
  };
}

/** Every key the cache wrote under `prefix`, with the bytes Redis says each one takes. */
async function cacheKeys(prefix: string): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  for (const key of await redis.keys(`${prefix}:cache:*`)) {
    sizes.set(key, Number(await redis.memory('USAGE', key)));
  }
  return sizes;
}

const body = (label: string, bytes: number) => () =>
  Promise.resolve(`{"${label}":"${'x'.repeat(bytes)}"}`);

describe('the cache byte budget in Redis', () => {
  it('keeps every entry together under the budget, dropping the oldest first', async () => {
    const { cache, prefix } = budgeted(1024 * KIB);
    for (let index = 0; index < 60; index += 1) {
      await cache.get(`q${index}`, body(`q${index}`, 100 * KIB));
      await cache.settled();
    }
    const keys = await cacheKeys(prefix);
    const entries = [...keys.keys()].filter((key) => key.includes(':cache:entry:'));
    const held = [...keys.values()].reduce((sum, bytes) => sum + bytes, 0);
    expect(held).toBeLessThan(1024 * KIB);
    // About nine 100 KiB entries fit; they are the newest ones.
    expect(entries.length).toBeGreaterThanOrEqual(7);
    expect(entries.length).toBeLessThanOrEqual(10);
    expect(entries).toContain(`${prefix}:cache:entry:q59`);
    expect(entries).not.toContain(`${prefix}:cache:entry:q0`);
    // The accounting agrees with what is stored: its total covers the entries' real sizes.
    const total = Number(await redis.hget(`${prefix}:cache:bytes`, 'total'));
    const stored = entries.reduce((sum, key) => sum + keys.get(key)!, 0);
    expect(total).toBeGreaterThanOrEqual(stored);
    expect(total).toBeLessThanOrEqual(1024 * KIB);
    expect(await redis.zcard(`${prefix}:cache:entries`)).toBe(entries.length);
  });

  it('stores each query once: the fresh answer is also the stale copy, across version bumps', async () => {
    const { cache, prefix } = budgeted(4096 * KIB);
    await cache.get('one', body('v0', 200 * KIB));
    await cache.settled();
    await cache.bumpVersion();
    expect((await cache.get('one', body('v1', 200 * KIB))).outcome).toBe('miss');
    await cache.settled();
    const entries = [...(await cacheKeys(prefix)).keys()].filter((key) =>
      key.includes(':cache:entry:'),
    );
    expect(entries).toEqual([`${prefix}:cache:entry:one`]);
    await cache.bumpVersion();
    const stale = await cache.get('one', () => Promise.reject(new Error('database down')));
    expect(stale.outcome).toBe('stale');
    expect(stale.body.toString()).toContain('"v1"');
    // Replacing an entry does not count it twice.
    const total = Number(await redis.hget(`${prefix}:cache:bytes`, 'total'));
    expect(total).toBeLessThan(2 * 200 * KIB);
  });

  it('never stores an answer larger than the whole budget', async () => {
    const { cache, prefix } = budgeted(256 * KIB);
    await cache.get('small', body('small', 10 * KIB));
    const huge = await cache.get('huge', body('huge', 300 * KIB));
    await cache.settled();
    expect(huge.outcome).toBe('miss');
    const entries = [...(await cacheKeys(prefix)).keys()].filter((key) =>
      key.includes(':cache:entry:'),
    );
    expect(entries).toEqual([`${prefix}:cache:entry:small`]);
  });

  it('is not a hit for an entry of another catalog version, nor sends one over the wire', async () => {
    const { cache, prefix } = budgeted(4096 * KIB);
    await cache.get('v', body('old', 10));
    await cache.settled();
    await cache.bumpVersion();
    let loads = 0;
    const fresh = await cache.get('v', () => {
      loads += 1;
      return Promise.resolve('{"new":1}');
    });
    expect([fresh.outcome, loads]).toEqual(['miss', 1]);
    expect(await redis.exists(`${prefix}:cache:entry:v`)).toBe(1);
  });
});
