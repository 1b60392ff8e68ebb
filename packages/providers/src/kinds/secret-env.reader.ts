import { z } from 'zod';
import { ProviderConfigError } from './provider-config.error.ts';

/**
 * Config fields that hold the NAME of an environment variable, never a secret: configs are stored
 * in the providers table and printed by `providers list`.
 */
const envName = z
  .string()
  .regex(
    /^[A-Z][A-Z0-9_]*$/,
    'must be the NAME of an environment variable holding the secret (e.g. TICKETMASTER_API_KEY), never the secret itself',
  );

/** The secret of an `auth` config, read when a sync runs; a missing one is a config error. */
function readSecret(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value === '') {
    throw new ProviderConfigError(`environment variable ${name} (auth.env) is not set`);
  }
  return value;
}

/** A credential sent with every request, its value read from the environment variable `env`. */
export const authSchema = z
  .object({
    in: z.enum(['header', 'query']).default('header'),
    /** Header or query parameter name, e.g. "Authorization" or "apikey". */
    name: z.string().min(1),
    env: envName,
    /** Put before the secret, e.g. "Bearer ". */
    prefix: z.string().default(''),
  })
  .strict();
export type AuthConfig = z.output<typeof authSchema>;

/** Adds the credential to one request: a header, or a query parameter of its URL. */
export function authorizer(
  auth: AuthConfig | undefined,
): (
  url: string,
  headers: Record<string, string>,
) => { url: string; headers: Record<string, string> } {
  if (auth === undefined) return (url, headers) => ({ url, headers });
  const secret = `${auth.prefix}${readSecret(auth.env)}`;
  return (url, headers) => {
    if (auth.in === 'header') return { url, headers: { ...headers, [auth.name]: secret } };
    const target = new URL(url);
    target.searchParams.set(auth.name, secret);
    return { url: target.toString(), headers };
  };
}
