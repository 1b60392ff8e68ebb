import type { Redis } from 'ioredis';
import { parseEnv, type BaseEnv } from '@marquee/config';
import type { Db } from '@marquee/db';
import type { IngestQueue } from '@marquee/queue';
import { cliEnvSchema } from './env.schema.ts';
import { checkPostgres, checkRedis, DEPENDENCY_TIMEOUT_MS } from './reachability.ts';

/**
 * The client libraries, imported on first use, once, one after the other: a first import of one
 * module graph started twice at once fails under Jest's ESM loader ("not in cache").
 */
async function importLibraries() {
  const db = await import('@marquee/db');
  const queue = await import('@marquee/queue');
  const redis = await import('@marquee/redis');
  return { db, queue, redis };
}
let clientLibraries: ReturnType<typeof importLibraries> | undefined;
const libraries = () => (clientLibraries ??= importLibraries());

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** On a terminal: shows a line on stderr that the next `status` or `err` replaces. */
  status?: ((line: string) => void) | undefined;
}

/**
 * Clients for one CLI invocation, created on first use (so `--help` or a usage error touches no
 * database, and loads no client library: each is imported when first asked for) and all closed
 * by `close()`. Each is checked once before it is handed out: a
 * command whose PostgreSQL or Redis does not answer stops within seconds, naming which one.
 */
export class CliContext {
  readonly env: BaseEnv;
  private dbClient: Db | undefined;
  private dbReady: Promise<Db> | undefined;
  private redisClients: Redis[] = [];
  private redisReady: Promise<Redis> | undefined;
  private ingestQueue: IngestQueue | undefined;

  constructor(
    readonly io: CliIo,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.env = parseEnv(cliEnvSchema, env);
  }

  /** PostgreSQL, answering; `allowMissingDatabase` for `migrate`, which creates it. */
  db(options: { allowMissingDatabase?: boolean } = {}): Promise<Db> {
    this.dbReady ??= (async () => {
      const { createDb } = (await libraries()).db;
      this.dbClient = createDb({ databaseUrl: this.env.DATABASE_URL, maxConnections: 2 });
      await checkPostgres(this.dbClient, this.env.DATABASE_URL, options);
      return this.dbClient;
    })();
    return this.dbReady;
  }

  /** Redis for commands: no offline queue, a command fails rather than waits for a reconnect. */
  redis(): Promise<Redis> {
    this.redisReady ??= (async () => {
      const redis = await this.connect('fail-fast');
      await checkRedis(redis, this.env.REDIS_URL);
      return redis;
    })();
    return this.redisReady;
  }

  /** A connection of its own that may block (BullMQ's QueueEvents reads with XREAD BLOCK). */
  async blockingRedis(): Promise<Redis> {
    await this.redis();
    const redis = await this.connect('blocking');
    await checkRedis(redis, this.env.REDIS_URL);
    return redis;
  }

  async queue(): Promise<IngestQueue> {
    const connection = await this.redis();
    const { IngestQueue } = (await libraries()).queue;
    this.ingestQueue ??= new IngestQueue({ connection, prefix: this.env.QUEUE_PREFIX });
    return this.ingestQueue;
  }

  async close(): Promise<void> {
    await this.ingestQueue?.close().catch(() => undefined);
    await Promise.allSettled([
      this.dbClient?.$disconnect(),
      ...this.redisClients.map((redis) => redis.quit().catch(() => redis.disconnect())),
    ]);
  }

  private async connect(mode: 'fail-fast' | 'blocking'): Promise<Redis> {
    const { createRedis } = (await libraries()).redis;
    const redis = createRedis(this.env.REDIS_URL, mode, {
      connectTimeout: DEPENDENCY_TIMEOUT_MS,
      // One connection attempt: an outage is reported, not waited out.
      retryStrategy: () => null,
    });
    // Errors surface through the calls that fail; unheard, ioredis prints each with its stack.
    redis.on('error', () => undefined);
    this.redisClients.push(redis);
    return redis;
  }
}
