import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client.ts';

export type Db = PrismaClient;

export interface DbOptions {
  databaseUrl: string;
  /** Pool size per process; the API wants more than a worker. */
  maxConnections?: number;
}

/** Prisma 7 through the pg driver adapter: no native query engine, so it runs on any machine. */
export function createDb({ databaseUrl, maxConnections = 10 }: DbOptions): Db {
  const adapter = new PrismaPg({
    connectionString: databaseUrl,
    max: maxConnections,
    connectionTimeoutMillis: 5_000,
  });
  return new PrismaClient({ adapter });
}
