export { ConfigError, parseEnv } from './env.parser.ts';
export {
  baseEnvSchema,
  cacheRedisUrl,
  changesRetentionDays,
  envBool,
  port,
  queueDueWindowSeconds,
  webhookRetryEnv,
  type BaseEnv,
} from './env.schema.ts';
export { formatDuration, parseDuration } from './duration.parser.ts';
export { formatInstant } from './instant.format.ts';
