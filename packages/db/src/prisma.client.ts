import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from './generated/prisma/client.ts';

export interface DbOptions {
  databaseUrl: string;
  /** Pool size per process; the API wants more than a worker. */
  maxConnections?: number;
}

/**
 * Prisma 7 through the pg driver adapter (no native query engine, so it runs on any machine),
 * with its connection pool in reach: bulk writes lease a connection of the same pool for what
 * Prisma cannot do (COPY). `$disconnect` ends the pool, whether Prisma used it or not.
 */
export class Db extends PrismaClient {
  constructor(readonly pool: pg.Pool) {
    // `minimal`: no call site captured and parsed from a stack trace on every query (about a
    // third of a simple query's CPU); the errors keep their codes, and users never see them.
    super({ adapter: new PrismaPg(pool), errorFormat: 'minimal' });
    // An idle connection that fails (server restart, terminated backend) is dropped by the pool,
    // which opens another on demand; unheard, the error would crash the process.
    pool.on('error', () => undefined);
  }

  override async $disconnect(): Promise<void> {
    await super.$disconnect();
    if (!this.pool.ended) await this.pool.end();
  }
}

export function createDb({ databaseUrl, maxConnections = 10 }: DbOptions): Db {
  return new Db(
    new pg.Pool({
      connectionString: databaseUrl,
      max: maxConnections,
      connectionTimeoutMillis: 5_000,
    }),
  );
}
