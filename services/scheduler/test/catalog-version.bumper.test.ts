// A change to providers bumps the API cache's catalog version (a removed provider's events must
// leave cached answers at once); changes at the same time share a bump, and one asked while Redis
// is down lands once it is back.
import { PassThrough } from 'node:stream';
import { afterAll, expect, it } from '@jest/globals';
import { catalogVersionBump, SearchCache } from '@marquee/cache';
import { createLogger } from '@marquee/logger';
import { createRedis } from '@marquee/redis';
import { eventually, startRedisServer, uniquePrefix } from '@marquee/testing';
import { catalogVersionBumper } from '../src/catalog-version.bumper.ts';

const redis = createRedis('redis://127.0.0.1:6379/0', 'blocking');
const prefix = uniquePrefix('bumper');

afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

function capturedLogger() {
  const stream = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    }
  });
  return { logger: createLogger({ service: 'scheduler', stream }), lines };
}

it('bumps the version the API reads; changes at the same time share a bump', async () => {
  const cache = new SearchCache({ redis, prefix, ttlSeconds: 0 });
  const { logger, lines } = capturedLogger();
  const before = await cache.version();
  const providersChanged = catalogVersionBumper(catalogVersionBump(redis, prefix), logger);
  providersChanged();
  await eventually(
    async () => ((await cache.version()) !== before ? true : undefined),
    2_000,
    'a bump',
  );
  const once = await cache.version();
  for (let n = 0; n < 10; n += 1) providersChanged();
  await eventually(
    async () => ((await cache.version()) !== once ? true : undefined),
    2_000,
    'the next bump',
  );
  // 10 calls while none was in flight: one bump for the first, one more for the other nine.
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect((await cache.version()) - once).toBeLessThanOrEqual(2);
  expect(lines).toEqual([]);
});

it('a change while Redis is down is bumped once it is back, without a warning', async () => {
  const server = await startRedisServer();
  const own = createRedis(server.url, 'blocking');
  own.on('error', () => undefined);
  const cache = new SearchCache({ redis: own, prefix, ttlSeconds: 0 });
  const { logger, lines } = capturedLogger();
  const providersChanged = catalogVersionBumper(catalogVersionBump(own, prefix), logger);
  try {
    await server.stop();
    for (let n = 0; n < 3; n += 1) providersChanged();
    await new Promise((resolve) => setTimeout(resolve, 500));
    await server.start();
    // The first call's bump, then one more shared by the two calls made while it waited.
    await eventually(
      async () => ((await cache.version()) === 2 ? true : undefined),
      10_000,
      'the bumps after the outage',
    );
  } finally {
    await own.quit();
    await server.stop();
  }
  expect(lines).toEqual([]);
});
