import { z } from 'zod';

export const envBool = z.stringbool({ truthy: ['true', '1', 'yes'], falsy: ['false', '0', 'no'] });

export const port = z.coerce.number().int().min(0).max(65535);

const postgresUrl = z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL');
const redisUrl = z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL');

/**
 * `due` in the queue-depth metric: delayed jobs due within this many seconds of a scrape. KEDA
 * scales workers on it, so it spans KEDA's polling interval plus one scrape interval (k8s/).
 */
export const queueDueWindowSeconds = z.coerce.number().int().min(1).max(3600).default(30);

/** Days the change feed keeps a change (docs/changes.md); the api and the scheduler read it. */
export const changesRetentionDays = z.coerce.number().int().min(1).max(3650).default(30);

/** Webhook delivery retries (docs/webhooks.md); the worker and the scheduler enqueue with them. */
export const webhookRetryEnv = {
  /** Attempts of one message before it becomes a dead letter. */
  WEBHOOK_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(8),
  /** First retry's delay; each next one doubles it (±20% jitter). */
  WEBHOOK_BACKOFF_MS: z.coerce.number().int().min(10).default(10_000),
};

/**
 * Redis of the API cache and its catalog version (REDIS_URL when unset): the api reads it, the
 * worker and the scheduler bump the version when the catalog changed.
 */
export const cacheRedisUrl = redisUrl.optional();

/** Variables every service and the CLI read. */
export const baseEnvSchema = z.object({
  DATABASE_URL: postgresUrl.default('postgresql://postgres@127.0.0.1:5432/marquee'),
  REDIS_URL: redisUrl.default('redis://127.0.0.1:6379/0'),
  // BullMQ keys live under "<prefix>:<queue>:…". Braces make a Redis Cluster hash tag ({marquee}).
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_{}.-]+$/, 'may hold letters, digits and _ { } . - only')
    .default('marquee'),
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']).default('info'),
  ALLOW_PRIVATE_PROVIDERS: envBool.default(false),
  // Webhook endpoints may be private addresses (the worker sends, the CLI checks and tests).
  ALLOW_PRIVATE_WEBHOOKS: envBool.default(false),
});

export type BaseEnv = z.output<typeof baseEnvSchema>;
