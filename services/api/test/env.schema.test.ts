import { describe, expect, it } from '@jest/globals';
import { ConfigError, parseEnv } from '@marquee/config';
import { apiEnvSchema } from '../src/env.schema.ts';

describe('apiEnvSchema', () => {
  it('defaults to the local machine, with the cache on REDIS_URL', () => {
    expect(parseEnv(apiEnvSchema, { REDIS_URL: 'redis://cache-and-queues:6379/1' })).toMatchObject({
      API_PORT: 3000,
      API_HOST: '0.0.0.0',
      CACHE_TTL_SECONDS: 60,
      CACHE_MAX_MB: 64,
      REDIS_URL: 'redis://cache-and-queues:6379/1',
      CACHE_REDIS_URL: 'redis://cache-and-queues:6379/1',
    });
  });

  it('takes a Redis of its own for the cache, and ignores empty values', () => {
    const env = parseEnv(apiEnvSchema, {
      CACHE_REDIS_URL: 'rediss://cache:6380/0',
      API_PORT: '8080',
      CACHE_TTL_SECONDS: '',
    });
    expect(env).toMatchObject({
      CACHE_REDIS_URL: 'rediss://cache:6380/0',
      REDIS_URL: 'redis://127.0.0.1:6379/0',
      API_PORT: 8080,
      CACHE_TTL_SECONDS: 60,
    });
  });

  it('names each bad variable', () => {
    let thrown: unknown;
    try {
      parseEnv(apiEnvSchema, {
        API_PORT: '70000',
        CACHE_TTL_SECONDS: '0',
        CACHE_REDIS_URL: 'http://x',
        CACHE_MAX_MB: '0',
      });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const names = (thrown as ConfigError).problems.map((problem) => problem.split(':')[0]);
    expect(names.sort()).toEqual([
      'API_PORT',
      'CACHE_MAX_MB',
      'CACHE_REDIS_URL',
      'CACHE_TTL_SECONDS',
    ]);
  });
});
