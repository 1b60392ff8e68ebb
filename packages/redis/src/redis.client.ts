import { Redis, type RedisOptions } from 'ioredis';

/** Longest a `fail-fast` connection waits for a command's answer. */
export const FAIL_FAST_COMMAND_TIMEOUT_MS = 1_000;

/**
 * Two kinds of Redis connection with opposite failure policies:
 * - `blocking` (BullMQ workers, queue events): retries forever, never times a command out;
 * - `fail-fast` (API cache, producers, CLI): no offline queue and one retry, so a Redis outage
 *   costs a request a few milliseconds and a fallback, not a hang.
 */
export function createRedis(
  url: string,
  mode: 'blocking' | 'fail-fast',
  extra: RedisOptions = {},
): Redis {
  const options: RedisOptions =
    mode === 'blocking'
      ? { maxRetriesPerRequest: null, enableReadyCheck: true }
      : {
          maxRetriesPerRequest: 1,
          enableOfflineQueue: false,
          commandTimeout: FAIL_FAST_COMMAND_TIMEOUT_MS,
          connectTimeout: 2_000,
          // Keep reconnecting in the background, at most every 2 s.
          retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
        };
  return new Redis(url, { ...options, lazyConnect: false, ...extra });
}
