export { ConfigError, parseEnv } from './env.parser.ts';
export { baseEnvSchema, envBool, port, type BaseEnv } from './env.schema.ts';
export { formatDuration, parseDuration } from './duration.parser.ts';
