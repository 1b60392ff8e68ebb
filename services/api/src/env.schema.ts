import { baseEnvSchema, cacheRedisUrl, changesRetentionDays, port } from '@marquee/config';
import { z } from 'zod';

/** PostgreSQL connections of one api process (replicas times this count against max_connections). */
export const API_DB_POOL_MAX = 20;

export const apiEnvSchema = baseEnvSchema
  .extend({
    API_PORT: port.default(3000),
    API_HOST: z.string().min(1).default('0.0.0.0'),
    CACHE_TTL_SECONDS: z.coerce.number().int().min(1).default(60),
    // The cache may live on its own Redis (LRU eviction), apart from the queues' (noeviction).
    CACHE_REDIS_URL: cacheRedisUrl,
    // What clients and CDNs are told: reuse for this long, fall back on it this long on errors.
    API_MAX_AGE_SECONDS: z.coerce.number().int().min(0).default(5),
    CACHE_STALE_TTL_SECONDS: z.coerce.number().int().min(1).default(86_400),
    // Bytes (MiB) the cache may hold in Redis, all replicas together; also each process's memory tier.
    CACHE_MAX_MB: z.coerce.number().int().min(1).max(65_536).default(64),
    RATE_LIMIT_PUBLIC_PER_MINUTE: z.coerce.number().int().min(1).default(1_200),
    RATE_LIMIT_KEY_PER_MINUTE: z.coerce.number().int().min(1).default(60_000),
    // Comma-separated origins allowed from browsers, or `*`; empty: no CORS headers.
    CORS_ORIGINS: z
      .string()
      .default('')
      .transform((text) =>
        text
          .split(',')
          .map((origin) => origin.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.union([z.literal('*'), z.url()]))),
    // Processes serving the API port (node:cluster); 1: this process serves it alone.
    API_WORKERS: z.coerce.number().int().min(1).max(64).default(1),
    // Express `trust proxy`: the number of proxies in front, so rate limits see client IPs.
    TRUST_PROXY: z.coerce.number().int().min(0).max(10).default(0),
    CHANGES_RETENTION_DAYS: changesRetentionDays,
  })
  .transform(({ CACHE_REDIS_URL, ...env }) => ({
    ...env,
    CACHE_REDIS_URL: CACHE_REDIS_URL ?? env.REDIS_URL,
  }));

export type ApiEnv = z.output<typeof apiEnvSchema>;
