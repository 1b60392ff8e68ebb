import type { z } from 'zod';

/** Raised once at start-up; names each bad variable and why, never its value (it may be a secret). */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid environment: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

export function parseEnv<S extends z.ZodType>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.output<S> {
  // Empty strings are treated as unset so `FOO=` in a compose file falls back to the default.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => {
      const name = issue.path.map(String).join('.') || '(environment)';
      // zod messages describe the expectation ("Invalid URL"); they never echo the input.
      return `${name}: ${issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message}`;
    }),
  );
}
