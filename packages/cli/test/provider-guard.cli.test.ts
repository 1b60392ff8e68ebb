// Issue 4 in the CLI: the SSRF guard on `providers add` / `providers test`, and the BREAKER
// column of `providers list`, run in-process against a test database and Redis.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { ProviderRepository } from '@marquee/db';
import { writeBreakerStatus } from '@marquee/provider-status';
import { createRedis } from '@marquee/redis';
import { createTestDatabase, uniquePrefix, type TestDatabase } from '@marquee/testing';
import { CliContext } from '../src/cli.context.ts';
import { cliTestEnv, runCliInProcess } from './cli.harness.ts';

let database: TestDatabase;
let redis: Redis;
let prefix: string;

beforeAll(async () => {
  database = await createTestDatabase('cli_guard');
  redis = createRedis('redis://127.0.0.1:6379/0', 'blocking');
  prefix = uniquePrefix('cli-guard');
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  await database.drop();
});

const marquee = (args: string[], allowPrivate: boolean) =>
  runCliInProcess(args, cliTestEnv(database.url, prefix, allowPrivate));

describe('SSRF guard in the CLI', () => {
  it.each([
    'http://127.0.0.1:8080/feed.xml',
    'http://localhost/feed.xml',
    'http://[::1]/x',
    'http://10.0.0.7/x',
  ])('providers add refuses %s unless ALLOW_PRIVATE_PROVIDERS=true', async (url) => {
    const refused = await marquee(
      ['providers', 'add', 'local', '--kind', 'fever-xml', '--url', url],
      false,
    );
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/--url: refused to connect to .*ALLOW_PRIVATE_PROVIDERS=true/);
  });

  it('providers add accepts a private URL when allowed', async () => {
    const added = await marquee(
      ['providers', 'add', 'local', '--kind', 'fever-xml', '--url', 'http://127.0.0.1:9/feed.xml'],
      true,
    );
    expect(added.code).toBe(0);
  });

  it('providers test refuses a private address before connecting', async () => {
    const result = await marquee(
      ['providers', 'test', '--kind', 'fever-xml', '--url', 'http://10.9.8.7/feed.xml'],
      false,
    );
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/refused to connect to 10\.9\.8\.7 \(private address\)/);
  });
});

describe('providers list shows breakers', () => {
  it('BREAKER column and json field: closed by default, open with the last error when reported', async () => {
    const closed = await marquee(['providers', 'list'], true);
    expect(closed.out).toMatch(/BREAKER/);
    expect(closed.out).toMatch(/ closed /);

    const json = JSON.parse((await marquee(['providers', 'list', '--json'], true)).out) as {
      name: string;
      breaker: unknown;
    }[];
    expect(json[0]?.breaker).toEqual({
      state: 'closed',
      lastError: null,
      lastErrorAt: null,
      probeAt: null,
      updatedAt: null,
    });

    const ctx = new CliContext(
      { out: () => undefined, err: () => undefined },
      {
        DATABASE_URL: database.url,
        QUEUE_PREFIX: prefix,
      },
    );
    const provider = await new ProviderRepository(await ctx.db()).findByName('local');
    await ctx.close();
    await writeBreakerStatus(redis, prefix, provider?.id ?? '', {
      state: 'open',
      lastError: 'HTTP 503 Service Unavailable',
      lastErrorAt: '2030-01-01T00:00:00.000Z',
      probeAt: '2030-01-01T00:01:00.000Z',
      reportedBy: 'host:1',
      updatedAt: '2030-01-01T00:00:00.000Z',
    });
    const open = await marquee(['providers', 'list'], true);
    expect(open.out).toMatch(/open until 2030-01-01T00:01:00.000Z: HTTP 503 Service Unavailable/);
    const openJson = JSON.parse((await marquee(['providers', 'list', '--json'], true)).out) as {
      breaker: { state: string; lastError: string };
    }[];
    expect(openJson[0]?.breaker).toMatchObject({
      state: 'open',
      lastError: 'HTTP 503 Service Unavailable',
    });
  });
});
