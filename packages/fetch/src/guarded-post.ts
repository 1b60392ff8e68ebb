import got from 'got';
import { assertHostAllowed, guardedLookup, type AddressPolicy } from './address.guard.ts';

export interface PostOptions {
  headers: Record<string, string>;
  timeoutMs: number;
  addressPolicy: AddressPolicy;
}

export interface PostResult {
  status: number;
  /** The first 200 characters of the answer: enough to say why it failed. */
  excerpt: string;
}

/**
 * POSTs a body to a URL someone configured (a webhook endpoint) under the same address guard as
 * provider fetches: refused hosts fail with AddressRefusedError before any byte is sent, and no
 * redirect is followed (a 3xx is an answer like any other). Any status is returned; network
 * failures and the timeout reject.
 */
export async function postGuarded(
  url: string,
  body: string,
  options: PostOptions,
): Promise<PostResult> {
  assertHostAllowed(new URL(url), options.addressPolicy);
  const response = await got.post(url, {
    body,
    headers: options.headers,
    timeout: { request: options.timeoutMs },
    followRedirect: false,
    retry: { limit: 0 },
    throwHttpErrors: false,
    dnsLookup: guardedLookup(options.addressPolicy),
  });
  return { status: response.statusCode, excerpt: response.body.slice(0, 200) };
}
