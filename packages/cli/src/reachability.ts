import type { Redis } from 'ioredis';
import type { Db } from '@marquee/db';
import { UnreachableError } from './cli.errors.ts';

/** Longest wait for PostgreSQL or Redis to answer before a command gives up. */
export const DEPENDENCY_TIMEOUT_MS = 4_000;

/** `host:port` of a service URL: where it is, never who logs in. */
function whereIs(url: string, defaultPort: number): string {
  try {
    const { hostname, port } = new URL(url);
    return `${hostname || 'localhost'}:${port || defaultPort}`;
  } catch {
    return '(unparsable URL)';
  }
}

/** "connect ECONNREFUSED" rather than the address again, which the message already names. */
function cause(error: unknown): string {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message.split('\n')[0]! : String(error);
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return `connect ${code}`;
  return text.replace(/ \[?[\w.:-]+\]?:\d+$/, '');
}

function deadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/**
 * Opens one pooled connection and runs `SELECT 1`. A missing database is no outage for
 * `migrate`, which creates it: `allowMissingDatabase` lets that through.
 */
export async function checkPostgres(
  db: Db,
  url: string,
  options: { allowMissingDatabase?: boolean } = {},
): Promise<void> {
  try {
    await deadline(
      (async () => {
        const client = await db.pool.connect();
        try {
          await client.query('SELECT 1');
        } finally {
          client.release();
        }
      })(),
      DEPENDENCY_TIMEOUT_MS,
    );
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === '3D000') {
      if (options.allowMissingDatabase) return;
      throw new UnreachableError(
        `PostgreSQL at ${whereIs(url, 5432)} has no database ${new URL(url).pathname.slice(1)}; create it with: marquee migrate`,
      );
    }
    throw new UnreachableError(
      `PostgreSQL at ${whereIs(url, 5432)} is unreachable (${cause(error)})`,
    );
  }
}

/** Waits for the connection to be ready (a refused or failed connect rejects at once). */
export async function checkRedis(redis: Redis, url: string): Promise<void> {
  const ready = new Promise<void>((resolve, reject) => {
    if (redis.status === 'ready') {
      resolve();
      return;
    }
    redis.once('ready', resolve);
    redis.once('error', reject);
  });
  try {
    await deadline(ready, DEPENDENCY_TIMEOUT_MS);
  } catch (error) {
    throw new UnreachableError(`Redis at ${whereIs(url, 6379)} is unreachable (${cause(error)})`);
  }
}
