import { describe, expect, it } from '@jest/globals';
import { ConfigError, parseEnv } from '@marquee/config';
import { apiEnvSchema } from '../src/env.schema.ts';

describe('apiEnvSchema: caching, quotas, CORS', () => {
  it('has safe defaults: no CORS, no trusted proxy, quotas and cache lifetimes', () => {
    expect(parseEnv(apiEnvSchema, {})).toMatchObject({
      CORS_ORIGINS: [],
      TRUST_PROXY: 0,
      RATE_LIMIT_PUBLIC_PER_MINUTE: 1200,
      RATE_LIMIT_KEY_PER_MINUTE: 60000,
      API_MAX_AGE_SECONDS: 5,
      CACHE_STALE_TTL_SECONDS: 86400,
    });
  });

  it('reads CORS_ORIGINS as a comma-separated list of origins, or *', () => {
    expect(
      parseEnv(apiEnvSchema, { CORS_ORIGINS: ' https://a.example , https://b.example:8443' })
        .CORS_ORIGINS,
    ).toEqual(['https://a.example', 'https://b.example:8443']);
    expect(parseEnv(apiEnvSchema, { CORS_ORIGINS: '*' }).CORS_ORIGINS).toEqual(['*']);
  });

  it('names the variable, never the value, when one is bad', () => {
    let thrown: unknown;
    try {
      parseEnv(apiEnvSchema, { CORS_ORIGINS: 'not an origin', RATE_LIMIT_PUBLIC_PER_MINUTE: '0' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const text = (thrown as ConfigError).problems.join('\n');
    expect(text).toContain('CORS_ORIGINS');
    expect(text).toContain('RATE_LIMIT_PUBLIC_PER_MINUTE');
    expect(text).not.toContain('not an origin');
  });
});
