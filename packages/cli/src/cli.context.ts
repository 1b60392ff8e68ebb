import type { Redis } from 'ioredis';
import { parseEnv, type BaseEnv } from '@marquee/config';
import { createDb, ProviderRepository, SyncRunRepository, type Db } from '@marquee/db';
import { IngestQueue } from '@marquee/queue';
import { createRedis } from '@marquee/redis';
import { cliEnvSchema } from './env.schema.ts';

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

/**
 * Clients for one CLI invocation, created on first use (so `--help` or a usage error touches no
 * database) and all closed by `close()`.
 */
export class CliContext {
  readonly env: BaseEnv;
  private dbClient: Db | undefined;
  private redisClient: Redis | undefined;
  private ingestQueue: IngestQueue | undefined;

  constructor(
    readonly io: CliIo,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.env = parseEnv(cliEnvSchema, env);
  }

  get db(): Db {
    this.dbClient ??= createDb({ databaseUrl: this.env.DATABASE_URL, maxConnections: 2 });
    return this.dbClient;
  }

  get providers(): ProviderRepository {
    return new ProviderRepository(this.db);
  }

  get syncRuns(): SyncRunRepository {
    return new SyncRunRepository(this.db);
  }

  /** Waiting on jobs needs a connection that may block; it never queues commands offline forever. */
  get redis(): Redis {
    this.redisClient ??= createRedis(this.env.REDIS_URL, 'blocking', { connectTimeout: 5_000 });
    return this.redisClient;
  }

  get queue(): IngestQueue {
    this.ingestQueue ??= new IngestQueue({ connection: this.redis, prefix: this.env.QUEUE_PREFIX });
    return this.ingestQueue;
  }

  async close(): Promise<void> {
    await this.ingestQueue?.close();
    await Promise.allSettled([this.dbClient?.$disconnect(), this.redisClient?.quit()]);
  }
}
