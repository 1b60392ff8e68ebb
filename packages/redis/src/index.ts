export { createRedis, FAIL_FAST_COMMAND_TIMEOUT_MS } from './redis.client.ts';
