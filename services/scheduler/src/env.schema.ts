import { z } from 'zod';
import {
  baseEnvSchema,
  cacheRedisUrl,
  changesRetentionDays,
  port,
  queueDueWindowSeconds,
  webhookRetryEnv,
} from '@marquee/config';

/**
 * PostgreSQL connections of the scheduler's pool; its LISTEN for provider changes holds one more
 * beside it (provider-change.listener.ts).
 */
export const SCHEDULER_DB_POOL_MAX = 2;

export const schedulerEnvSchema = baseEnvSchema.extend({
  /** Fallback pass; changes to providers are normally picked up at once through NOTIFY. */
  RECONCILE_INTERVAL_SECONDS: z.coerce.number().int().min(1).default(60),
  /** How long a scheduler instance owns the Job Schedulers without renewing its lease. */
  LEADER_LEASE_SECONDS: z.coerce.number().int().min(2).default(15),
  /** `/metrics`, `/healthz` and `/readyz` (the scheduler serves nothing else); 0 picks a free port. */
  METRICS_PORT: port.default(9102),
  QUEUE_DUE_WINDOW_SECONDS: queueDueWindowSeconds,
  /** The change feed keeps changes this long; the scheduler's leader purges older ones hourly. */
  CHANGES_RETENTION_DAYS: changesRetentionDays,
  ...webhookRetryEnv,
  CACHE_REDIS_URL: cacheRedisUrl,
  /** How often the leader turns new changes into webhook messages. */
  WEBHOOK_DISPATCH_INTERVAL_MS: z.coerce.number().int().min(10).default(1_000),
});

export type SchedulerEnv = z.output<typeof schedulerEnvSchema>;
