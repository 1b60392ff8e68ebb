import { baseEnvSchema, port } from '@marquee/config';
import { z } from 'zod';

export const apiEnvSchema = baseEnvSchema
  .extend({
    API_PORT: port.default(3000),
    API_HOST: z.string().min(1).default('0.0.0.0'),
    CACHE_TTL_SECONDS: z.coerce.number().int().min(1).default(60),
    // The cache may live on its own Redis (LRU eviction), apart from the queues' (noeviction).
    CACHE_REDIS_URL: baseEnvSchema.shape.REDIS_URL.unwrap().optional(),
  })
  .transform(({ CACHE_REDIS_URL, ...env }) => ({
    ...env,
    CACHE_REDIS_URL: CACHE_REDIS_URL ?? env.REDIS_URL,
  }));

export type ApiEnv = z.output<typeof apiEnvSchema>;
