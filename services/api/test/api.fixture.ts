import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import type { Redis } from 'ioredis';
import { SearchCache } from '@marquee/cache';
import {
  ApiKeyRepository,
  ChangeRepository,
  createDb,
  EventRepository,
  ProviderRepository,
  ProviderStatusRepository,
  type Db,
  type Provider,
} from '@marquee/db';
import type { EventRecord } from '@marquee/event-model';
import { createLogger } from '@marquee/logger';
import { createRedis } from '@marquee/redis';
import { createTestDatabase, uniquePrefix, type TestDatabase } from '@marquee/testing';
import { createApp, type AppOptions } from '../src/app.ts';
import { createApiServer } from '../src/http.server.ts';
import { RateLimiter } from '../src/rate.limiter.ts';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';

export interface ApiFixtureOptions {
  /** Use this database instead of a fresh migrated one (e.g. one that does not exist). */
  databaseUrl?: string;
  redisUrl?: string;
  /** Cache and quota key prefix: share another fixture's to share its cache. */
  prefix?: string;
  /** Turn on API keys and quotas (off by default: most tests are about answers). */
  access?: {
    publicQuotaPerMinute: number;
    keyQuotaPerMinute: number;
    /** Called with each key looked up in the database. */
    onLookup?: (key: string) => void;
  };
  /** Anything else to pass to `createApp`. */
  app?: Partial<AppOptions>;
  /** The cache's byte budget in Redis. */
  cacheMaxBytes?: number;
  /** Staleness bound of the catalog version kept in process (the cache's default otherwise). */
  versionMaxAgeMs?: number;
}

export interface ApiFixture {
  url: string;
  databaseUrl: string;
  db: Db;
  redis: Redis;
  cache: SearchCache;
  events: EventRepository;
  providers: ProviderRepository;
  keys: ApiKeyRepository;
  prefix: string;
  /** Every JSON line logged so far. */
  logs(): Record<string, unknown>[];
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

/** The real app on a free loopback port, over its own database and cache prefix. */
/** A stream for the api's JSON log, and the lines written to it so far, parsed. */
function logLines(): { stream: PassThrough; lines: Record<string, unknown>[] } {
  const stream = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  let pending = '';
  stream.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const part of parts) if (part) lines.push(JSON.parse(part) as Record<string, unknown>);
  });
  return { stream, lines };
}

/**
 * The api's two Redis clients: the fail-fast cache client, ready (or refused) before the first
 * request, and the catalog version's subscriber.
 */
async function fixtureRedis(url: string) {
  // ioredis 5 arms a timer of `disconnectTimeout` when disconnecting from an already closed
  // socket and never clears it; a short one keeps the Redis-down file from holding jest open.
  const redis = createRedis(url, 'fail-fast', { disconnectTimeout: 50 });
  // Connection errors are expected in the Redis-down tests; the cache reports them as bypasses.
  redis.on('error', () => {});
  // Until the first connection settles, the fail-fast client refuses commands; a live Redis
  // must look up from the first request on.
  await new Promise<void>((resolve) => {
    redis.once('ready', resolve);
    redis.once('error', () => resolve());
  });
  // As deployed: the catalog version kept in process (pub/sub), which is what lets hot answers
  // take the fast path (search.fast-path.ts), so every test here covers both paths.
  const versionSubscriber = createRedis(url, 'blocking', {
    disconnectTimeout: 50,
  });
  versionSubscriber.on('error', () => {});
  return { redis, versionSubscriber };
}

export async function startApi(
  label: string,
  options: ApiFixtureOptions = {},
): Promise<ApiFixture> {
  let database: TestDatabase | undefined;
  if (options.databaseUrl === undefined) database = await createTestDatabase(`api-${label}`);
  const db = createDb({ databaseUrl: options.databaseUrl ?? database!.url });
  const { redis, versionSubscriber } = await fixtureRedis(options.redisUrl ?? REDIS_URL);
  const prefix = options.prefix ?? uniquePrefix(`api-${label}`);
  const cache = new SearchCache({
    redis,
    prefix,
    ttlSeconds: 60,
    versionSubscriber,
    ...(options.cacheMaxBytes === undefined ? {} : { maxBytes: options.cacheMaxBytes }),
    ...(options.versionMaxAgeMs === undefined ? {} : { versionMaxAgeMs: options.versionMaxAgeMs }),
  });
  const keys = new ApiKeyRepository(db);
  const { stream, lines } = logLines();
  const logger = createLogger({ service: 'api', level: 'http', stream });
  const events = new EventRepository(db);
  const app = createApp({
    events,
    cache,
    logger,
    providers: new ProviderStatusRepository(db),
    changes: { repository: new ChangeRepository(db), retentionDays: 30 },
    ...(options.access
      ? {
          access: {
            publicQuotaPerMinute: options.access.publicQuotaPerMinute,
            keyQuotaPerMinute: options.access.keyQuotaPerMinute,
            keys: {
              verify: (key: string) => {
                options.access?.onLookup?.(key);
                return keys.verify(key);
              },
            },
            limiter: new RateLimiter({ redis, prefix }),
            keyCacheMs: 0,
          },
        }
      : {}),
    ...options.app,
    checks: {
      async database() {
        await db.$queryRaw`SELECT 1`;
      },
      async redis() {
        await redis.ping();
      },
    },
  });
  const server = createApiServer(app).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    databaseUrl: options.databaseUrl ?? database!.url,
    db,
    redis,
    cache,
    events,
    providers: new ProviderRepository(db),
    keys,
    prefix,
    logs: () => lines,
    get: (path, headers) => fetch(`${url}${path}`, { headers }),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      redis.disconnect();
      versionSubscriber.disconnect();
      await db.$disconnect();
      await database?.drop();
    },
  };
}

export function createProvider(api: ApiFixture, name: string, timezone = 'UTC'): Promise<Provider> {
  return api.providers.create({
    name,
    kind: 'fever-xml',
    url: 'http://127.0.0.1/feed.xml',
    everySeconds: 60,
    timezone,
  });
}

/** A provider named `name` with `count` events keyed `<keyPrefix><n>`, written now. */
export async function seedProvider(
  api: ApiFixture,
  name: string,
  count: number,
  keyPrefix: string,
): Promise<Provider> {
  const provider = await createProvider(api, name);
  const events = Array.from({ length: count }, (_, index) =>
    record({ externalKey: `${keyPrefix}${index}` }),
  );
  await api.events.upsertMany(provider, events, new Date());
  return provider;
}

/** What the probes answer: /healthz and /readyz, status and body. */
export async function probes(api: ApiFixture) {
  const answer = async (path: string) => {
    const response = await api.get(path);
    return { status: response.status, body: await response.json() };
  };
  return { health: await answer('/healthz'), ready: await answer('/readyz') };
}

export const record = (
  over: Partial<EventRecord> & Pick<EventRecord, 'externalKey'>,
): EventRecord => ({
  title: `Event ${over.externalKey}`,
  startsAt: new Date('2021-06-30T21:00:00Z'),
  endsAt: new Date('2021-06-30T22:00:00Z'),
  timezone: 'UTC',
  minPrice: '15.00',
  maxPrice: '30.00',
  currency: 'EUR',
  online: true,
  ...over,
});

export interface Envelope<T> {
  data: T | null;
  error: { code: string; message: string } | null;
}

export async function json<T = unknown>(response: Response): Promise<Envelope<T>> {
  return (await response.json()) as Envelope<T>;
}
