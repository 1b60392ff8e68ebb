import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { thrownBy } from '@marquee/testing';
import { baseEnvSchema, ConfigError, parseEnv } from '../src/index.ts';

const SECRET = 'postgres://admin:hunter2@db.internal:5432/marquee';

/** The ConfigError parseEnv throws for `env`. */
const failure = (schema: z.ZodType, env: NodeJS.ProcessEnv): ConfigError =>
  thrownBy(() => parseEnv(schema, env), ConfigError);

describe('parseEnv', () => {
  it('applies defaults and treats an empty variable as unset', () => {
    expect(parseEnv(baseEnvSchema, { QUEUE_PREFIX: '', ALLOW_PRIVATE_PROVIDERS: 'yes' })).toEqual({
      DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/marquee',
      REDIS_URL: 'redis://127.0.0.1:6379/0',
      QUEUE_PREFIX: 'marquee',
      LOG_LEVEL: 'info',
      ALLOW_PRIVATE_PROVIDERS: true,
      ALLOW_PRIVATE_WEBHOOKS: false,
    });
  });

  it('names every bad variable and why, never its value', () => {
    const error = failure(baseEnvSchema, {
      DATABASE_URL: 'mysql://admin:hunter2@db.internal/marquee',
      REDIS_URL: SECRET,
      QUEUE_PREFIX: 'has spaces hunter2',
      LOG_LEVEL: 'hunter2',
      ALLOW_PRIVATE_PROVIDERS: 'hunter2',
    });
    expect(error.problems.map((problem) => problem.split(':')[0])).toEqual([
      'DATABASE_URL',
      'REDIS_URL',
      'QUEUE_PREFIX',
      'LOG_LEVEL',
      'ALLOW_PRIVATE_PROVIDERS',
    ]);
    expect(error.problems[0]).toBe('DATABASE_URL: must be a postgresql:// URL');
    expect(error.message).toMatch(/^invalid environment: DATABASE_URL: /);
    expect(error.message).not.toContain('hunter2');
    expect(error.message).not.toContain('db.internal');
  });

  it('says a required variable is required', () => {
    const schema = z.object({ API_KEY_SECRET: z.string().min(32), PORT: z.coerce.number() });
    expect(failure(schema, { PORT: 'eighty' }).problems).toEqual([
      'API_KEY_SECRET: is required',
      expect.stringMatching(/^PORT: /),
    ]);
    expect(failure(schema, { API_KEY_SECRET: 'hunter2', PORT: '80' }).message).not.toContain(
      'hunter2',
    );
  });
});
