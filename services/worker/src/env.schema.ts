import { z } from 'zod';
import { baseEnvSchema } from '@marquee/config';

export const workerEnvSchema = baseEnvSchema.extend({
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  /** Whole-request budget for one provider fetch. */
  FETCH_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  /** Larger payloads are refused (permanent failure), never buffered. */
  FETCH_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1_024)
    .default(100 * 1024 * 1024),
  FETCH_USER_AGENT: z.string().default('Marquee/0.1 (+https://github.com/marquee-events/marquee)'),
  /** Time SIGTERM gives in-flight syncs to finish before they are handed back to the queue. */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(25_000),
  CACHE_REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .optional(),
});

export type WorkerEnv = z.output<typeof workerEnvSchema>;
