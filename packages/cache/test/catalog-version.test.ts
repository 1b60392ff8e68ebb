import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { eventually, uniquePrefix } from '@marquee/testing';
import { SearchCache } from '../src/index.ts';
import { createRedis } from '@marquee/redis';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';

const connections: Redis[] = [];

async function connect(mode: 'blocking' | 'fail-fast'): Promise<Redis> {
  const redis = createRedis(REDIS_URL, mode);
  connections.push(redis);
  await new Promise<void>((resolve) => redis.once('ready', resolve));
  return redis;
}

let writer: Redis;

beforeAll(async () => {
  writer = await connect('fail-fast');
});

afterAll(async () => {
  await Promise.all(connections.map((redis) => redis.quit()));
});

/** A replica as the api runs it: its own connections, the version kept in process. */
async function replica(prefix: string, versionMaxAgeMs: number): Promise<SearchCache> {
  const subscriber = await connect('blocking');
  const cache = new SearchCache({
    redis: await connect('fail-fast'),
    prefix,
    ttlSeconds: 60,
    versionSubscriber: subscriber,
    versionMaxAgeMs,
  });
  // SUBSCRIBE is sent on construction; wait until Redis counts it.
  await eventually(
    async () => {
      const [, count] = (await writer.pubsub('NUMSUB', `${prefix}:cache:version-bumped`)) as [
        string,
        number,
      ];
      return count > 0 ? true : undefined;
    },
    5_000,
    'the subscription',
  );
  return cache;
}

const body = (text: string) => () => Promise.resolve(text);

describe('SearchCache with the version kept in process', () => {
  it('serves hits without reading the version, and sees another instance’s bumpVersion() at once', async () => {
    const prefix = uniquePrefix('catalog-version');
    // A staleness bound far beyond the test: only the published message can explain the miss.
    const reader = await replica(prefix, 3_600_000);
    const ingester = new SearchCache({ redis: writer, prefix, ttlSeconds: 60 });

    expect((await reader.get('k', body('one'))).outcome).toBe('miss');
    expect((await reader.get('k', body('one'))).outcome).toBe('hit');

    // A bump that publishes nothing stays unseen within the bound: the version is not re-read.
    await writer.incr(`${prefix}:cache:version`);
    const kept = await reader.get('k', body('two'));
    expect([kept.outcome, kept.body.toString()]).toEqual(['hit', 'one']);

    const version = await ingester.bumpVersion();
    expect(version).toBe(2);
    await eventually(
      async () =>
        (await reader.get('k', body('three'))).body.toString() === 'three' ? true : undefined,
      30_000,
      'the new version',
    );
  });

  it('reads the version again after the staleness bound when no message arrives', async () => {
    const prefix = uniquePrefix('catalog-version');
    const reader = await replica(prefix, 300);
    expect((await reader.get('k', body('one'))).outcome).toBe('miss');

    // As if the message were lost (subscription down): only the re-read can reveal the bump.
    await writer.incr(`${prefix}:cache:version`);
    expect((await reader.get('k', body('two'))).body.toString()).toBe('one');
    const after = await eventually(
      async () => {
        const read = await reader.get('k', body('two'));
        return read.outcome === 'miss' ? read : undefined;
      },
      5_000,
      'the re-read version',
    );
    expect(after.body.toString()).toBe('two');
  });
});
