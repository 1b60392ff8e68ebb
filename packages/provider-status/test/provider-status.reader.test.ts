// The one join of provider status (PostgreSQL) and breaker reports (Redis) that the CLI, the API
// and the dashboard read, on a real database and Redis.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ProviderStatusRepository, SyncRunRepository } from '@marquee/db';
import { createRedis } from '@marquee/redis';
import { databaseStackFor, freePort, uniquePrefix } from '@marquee/testing';
import {
  breakerReader,
  describeBreaker,
  ProviderStatusReader,
  writeBreakerStatus,
} from '../src/index.ts';

const redis = createRedis('redis://127.0.0.1:6379/0', 'fail-fast');
const prefix = uniquePrefix('provider-status');
const stack = databaseStackFor('provider_status', { beforeAll, afterAll });
let reader: ProviderStatusReader;

beforeAll(async () => {
  const { providers } = stack;
  const runs = new SyncRunRepository(stack.db);
  const base = { kind: 'fever-xml', everySeconds: 60, timezone: 'Europe/Madrid' };
  const a = await providers.create({ ...base, name: 'a', url: 'https://a.example/f.xml' });
  await providers.create({ ...base, name: 'b', url: 'https://b.example/f.xml' });
  const c = await providers.create({ ...base, name: 'c', url: 'https://c.example/api' });
  const limited = await runs.start(c.id, 'schedule', 'job-3');
  await runs.wait(
    limited.id,
    'HTTP 429 Too Many Requests; retry after 30000 ms',
    new Date('2030-01-01T00:00:30.000Z'),
    { fetched: 40 },
  );
  const ok = await runs.start(a.id, 'schedule', 'job-1');
  await runs.succeed(ok.id, { fetched: 2, parsed: 2, upserted: 2, unchanged: 0, rejected: 0 }, []);
  const bad = await runs.start(a.id, 'manual', 'job-2');
  await runs.fail(bad.id, 'HTTP 503', { fetched: 0 });
  await writeBreakerStatus(redis, prefix, a.id, {
    state: 'open',
    lastError: 'HTTP 503',
    lastErrorAt: '2030-01-01T00:00:00.000Z',
    probeAt: '2030-01-01T00:01:00.000Z',
    reportedBy: 'w:1',
    updatedAt: '2030-01-01T00:00:00.000Z',
  });
  reader = new ProviderStatusReader({
    statuses: new ProviderStatusRepository(stack.db),
    breakers: breakerReader(redis, prefix),
  });
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

describe('ProviderStatusReader', () => {
  it('joins each provider with its last sync, last success and breaker (closed when unreported)', async () => {
    const report = await reader.read();
    expect(report.breakersKnown).toBe(true);
    const [a, b] = report.providers;
    expect(a).toMatchObject({
      name: 'a',
      url: 'https://a.example/f.xml',
      timezone: 'Europe/Madrid',
      everySeconds: 60,
      events: 0,
      lastSuccessAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      lastSync: { status: 'failed', trigger: 'manual', jobId: 'job-2', error: 'HTTP 503' },
      breaker: {
        state: 'open',
        lastError: 'HTTP 503',
        probeAt: '2030-01-01T00:01:00.000Z',
        updatedAt: '2030-01-01T00:00:00.000Z',
      },
    });
    expect(b).toMatchObject({ name: 'b', lastSuccessAt: null, lastSync: null });
    // Rate-limited and put off, not failed: it says when its job runs again.
    expect(report.providers[2]).toMatchObject({
      name: 'c',
      lastSync: {
        status: 'waiting',
        resumesAt: '2030-01-01T00:00:30.000Z',
        error: 'HTTP 429 Too Many Requests; retry after 30000 ms',
        fetched: 40,
      },
    });
    expect(a?.lastSync?.resumesAt).toBeNull();
    expect(b?.breaker).toEqual({
      state: 'closed',
      lastError: null,
      lastErrorAt: null,
      probeAt: null,
      updatedAt: null,
    });
    expect(describeBreaker(a!.breaker)).toBe('open until 2030-01-01T00:01:00.000Z: HTTP 503');
    expect(describeBreaker(b!.breaker)).toBe('closed');
  });

  it('answers from PostgreSQL alone, breakers unknown, when Redis is down or slow', async () => {
    const down = createRedis(`redis://127.0.0.1:${await freePort()}/0`, 'fail-fast', {
      retryStrategy: () => null,
    });
    down.on('error', () => undefined);
    const slow = new ProviderStatusReader({
      statuses: new ProviderStatusRepository(stack.db),
      breakers: () => new Promise(() => undefined),
      breakerTimeoutMs: 200,
    });
    for (const degraded of [
      new ProviderStatusReader({
        statuses: new ProviderStatusRepository(stack.db),
        breakers: breakerReader(down, prefix),
      }),
      slow,
    ]) {
      const started = Date.now();
      const report = await degraded.read();
      expect(Date.now() - started).toBeLessThan(2_500);
      expect(report.breakersKnown).toBe(false);
      expect(report.providers.map((view) => [view.name, view.breaker])).toEqual([
        ['a', null],
        ['b', null],
        ['c', null],
      ]);
      expect(describeBreaker(null)).toBe('unknown (Redis unreachable)');
    }
    down.disconnect();
  });
});
