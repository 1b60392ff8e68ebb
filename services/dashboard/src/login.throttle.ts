import type { Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';

/** Wrong logins counted per client; over the limit, the client waits before it may try again. */
export interface LoginThrottle {
  /** Milliseconds until `client` may try again; 0 when it may now. */
  waitFor(client: string): Promise<number>;
  /** Counts one wrong login of `client`. */
  failed(client: string): Promise<void>;
}

export interface LoginThrottleOptions {
  redis: Redis;
  /** Key prefix (the queue prefix): replicas sharing it share the counts. */
  prefix: string;
  /** Wrong logins a client may make per window; the next attempt answers 429. */
  maxFailures: number;
  windowSeconds?: number;
}

/**
 * Counts kept in Redis (rate-limiter-flexible), so every dashboard replica sees the same
 * attempts: a fixed window opened by a client's first wrong login.
 */
export function redisLoginThrottle(options: LoginThrottleOptions): LoginThrottle {
  const limiter = new RateLimiterRedis({
    storeClient: options.redis,
    keyPrefix: `${options.prefix}:dashboard-login`,
    points: options.maxFailures,
    duration: options.windowSeconds ?? 60,
  });
  return {
    async waitFor(client) {
      const state = await limiter.get(client);
      return state && state.consumedPoints >= options.maxFailures ? state.msBeforeNext : 0;
    },
    async failed(client) {
      await limiter.penalty(client, 1);
    },
  };
}
