import { once } from 'node:events';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import {
  assertUrlAllowed,
  AddressRefusedError,
  fetchPayload,
  FetchError,
  guardedLookup,
  refusalReason,
  type FetchOptions,
} from '../src/index.ts';

const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((server) => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    }),
  );
});

async function serve(handler: RequestListener): Promise<{ port: number; hits: () => number }> {
  let hits = 0;
  const server = createServer((request, response) => {
    hits += 1;
    handler(request, response);
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, hits: () => hits };
}

const base: FetchOptions = { timeoutMs: 3_000, maxBytes: 100_000, userAgent: 'marquee-test' };
const publicOnly: FetchOptions = { ...base, addressPolicy: { allowPrivate: false } };
const allowPrivate: FetchOptions = { ...base, addressPolicy: { allowPrivate: true } };

async function refusal(url: string, options: FetchOptions): Promise<FetchError> {
  const error = await fetchPayload(url, options).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(FetchError);
  expect((error as FetchError).classification).toBe('permanent');
  return error as FetchError;
}

describe('refusalReason', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['::1', 'loopback'],
    ['10.20.30.40', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.1.1', 'linkLocal'],
    ['fe80::1', 'linkLocal'],
    ['fc00::1', 'uniqueLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['169.254.169.254', 'cloud metadata'],
    ['fd00:ec2::254', 'cloud metadata'],
  ])('refuses %s (%s) by default', (address, range) => {
    expect(refusalReason(address, { allowPrivate: false })).toBe(range);
  });

  it('accepts public unicast addresses', () => {
    expect(refusalReason('93.184.216.34', { allowPrivate: false })).toBeUndefined();
    expect(refusalReason('2606:2800:220:1:248:1893:25c8:1946', { allowPrivate: false })).toBe(
      undefined,
    );
  });

  it('ALLOW_PRIVATE_PROVIDERS accepts private ranges but never metadata endpoints', () => {
    expect(refusalReason('127.0.0.1', { allowPrivate: true })).toBeUndefined();
    expect(refusalReason('10.0.0.1', { allowPrivate: true })).toBeUndefined();
    expect(refusalReason('169.254.169.254', { allowPrivate: true })).toBe('cloud metadata');
    expect(refusalReason('::ffff:169.254.169.254', { allowPrivate: true })).toBe('cloud metadata');
    expect(refusalReason('fd00:ec2::254', { allowPrivate: true })).toBe('cloud metadata');
  });
});

describe('fetchPayload SSRF guard', () => {
  it('refuses loopback literals and names before connecting', async () => {
    const server = await serve((_request, response) => response.end('secret'));
    for (const host of ['127.0.0.1', 'localhost', '[::1]']) {
      const error = await refusal(`http://${host}:${server.port}/feed.xml`, publicOnly);
      expect(error.message).toMatch(/refused to connect to .*loopback address/);
      expect(error.message).toMatch(/ALLOW_PRIVATE_PROVIDERS=true/);
    }
    expect(server.hits()).toBe(0);
  });

  it('refuses private and metadata literals without any connection attempt', async () => {
    // A refusal that came from connecting would take the whole timeout (nothing listens there):
    // these must fail at once, before any packet leaves the machine.
    const started = Date.now();
    expect((await refusal('http://10.1.2.3/feed.xml', publicOnly)).message).toMatch(
      /10\.1\.2\.3 \(private address\)/,
    );
    expect((await refusal('http://169.254.169.254/latest', allowPrivate)).message).toMatch(
      /cloud metadata address\); never allowed/,
    );
    expect((await refusal('http://[fd00:ec2::254]/latest', allowPrivate)).message).toMatch(
      /cloud metadata/,
    );
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('fetches loopback providers when private providers are allowed', async () => {
    const server = await serve((_request, response) => response.end('<eventList/>'));
    for (const host of ['127.0.0.1', 'localhost']) {
      const payload = await fetchPayload(`http://${host}:${server.port}/feed.xml`, allowPrivate);
      expect(payload.body.toString()).toBe('<eventList/>');
    }
  });

  it('refuses a redirect hop to the metadata endpoint even when private providers are allowed', async () => {
    const server = await serve((_request, response) =>
      response.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end(),
    );
    const started = Date.now();
    const error = await refusal(`http://127.0.0.1:${server.port}/feed.xml`, allowPrivate);
    expect(error.message).toMatch(/169\.254\.169\.254 \(cloud metadata address\)/);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(server.hits()).toBe(1);
  });

  it('the guarded lookup refuses a name when any of its addresses is refused', async () => {
    const lookup = guardedLookup({ allowPrivate: false });
    const outcome = await new Promise<unknown>((resolve) =>
      lookup('localhost', { all: true }, (error) => resolve(error)),
    );
    expect(outcome).toBeInstanceOf(AddressRefusedError);
    const allowed = await new Promise<unknown>((resolve) =>
      guardedLookup({ allowPrivate: true })('localhost', {}, (error, address) =>
        resolve(error ?? address),
      ),
    );
    expect(allowed).toMatch(/^(127\.0\.0\.1|::1)$/);
  });
});

describe('assertUrlAllowed (providers add)', () => {
  it('refuses loopback and private URLs unless allowed; unresolvable hosts pass', async () => {
    await expect(
      assertUrlAllowed('http://localhost:8080/x', { allowPrivate: false }),
    ).rejects.toBeInstanceOf(AddressRefusedError);
    await expect(
      assertUrlAllowed('http://[::1]/x', { allowPrivate: false }),
    ).rejects.toBeInstanceOf(AddressRefusedError);
    await expect(
      assertUrlAllowed('http://10.0.0.8/x', { allowPrivate: false }),
    ).rejects.toBeInstanceOf(AddressRefusedError);
    await expect(
      assertUrlAllowed('http://localhost:8080/x', { allowPrivate: true }),
    ).resolves.toBeUndefined();
    await expect(
      assertUrlAllowed('http://feeds.invalid/x', { allowPrivate: false }),
    ).resolves.toBeUndefined();
  });
});
