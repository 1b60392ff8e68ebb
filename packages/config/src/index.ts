export { ConfigError, parseEnv } from './env.parser.ts';
export {
  baseEnvSchema,
  changesRetentionDays,
  envBool,
  port,
  queueDueWindowSeconds,
  type BaseEnv,
} from './env.schema.ts';
export { formatDuration, parseDuration } from './duration.parser.ts';
