import { fetchPayload } from '@marquee/fetch';
import type { FetchPage } from '../src/index.ts';

/** A kind's page fetch as the worker makes it, allowed to reach the tests' servers on loopback. */
export const loopbackFetch: FetchPage = (url, options) =>
  fetchPayload(url, {
    timeoutMs: 5_000,
    maxBytes: 1_000_000,
    userAgent: 'marquee-test',
    addressPolicy: { allowPrivate: true },
    ...options,
  });
