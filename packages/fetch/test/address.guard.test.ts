import { afterEach, describe, expect, it } from '@jest/globals';
import { feedServersPerTest, type FeedHandler } from '@marquee/testing';
import {
  assertUrlAllowed,
  AddressRefusedError,
  fetchPayload,
  FetchError,
  guardedLookup,
  postGuarded,
  refusalReason,
  type FetchOptions,
} from '../src/index.ts';

const serveFeed = feedServersPerTest(afterEach);

async function serve(handler: FeedHandler): Promise<{ port: string; hits: () => number }> {
  const server = await serveFeed(handler);
  const hits = () => [...server.hits.values()].reduce((sum, count) => sum + count, 0);
  return { port: new URL(server.url).port, hits };
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

describe('refusalReason: IPv6 forms that embed an IPv4 address', () => {
  const privateOk = { allowPrivate: true };
  const publicOnly = { allowPrivate: false };
  it.each([
    // [address, by default, with ALLOW_PRIVATE_PROVIDERS]
    ['::7f00:1', 'loopback', undefined], // IPv4-compatible 127.0.0.1 (the example)
    ['::127.0.0.1', 'loopback', undefined],
    ['::a00:1', 'private', undefined],
    ['::a9fe:a9fe', 'cloud metadata', 'cloud metadata'],
    ['::ffff:7f00:1', 'loopback', undefined],
    ['::ffff:a9fe:a9fe', 'cloud metadata', 'cloud metadata'],
    ['::ffff:0:a9fe:a9fe', 'cloud metadata', 'cloud metadata'], // SIIT
    ['64:ff9b::a9fe:a9fe', 'cloud metadata', 'cloud metadata'], // NAT64 (the example)
    ['64:ff9b::169.254.170.2', 'cloud metadata', 'cloud metadata'],
    ['64:ff9b::7f00:1', 'loopback', undefined],
    ['64:ff9b:1::a9fe:a9fe', 'cloud metadata', 'cloud metadata'], // local-use NAT64
    ['64:ff9b::5db8:d822', undefined, undefined], // NAT64 of a public host: judged as it
    ['::ffff:93.184.216.34', undefined, undefined],
    ['2002:a9fe:a9fe::1', 'cloud metadata', 'cloud metadata'], // 6to4
    ['2002:7f00:1::1', 'loopback', undefined],
    ['2002:5db8:d822::1', '6to4', undefined], // 6to4 of a public host: a tunnel, not unicast
    ['2001:0:a9fe:a9fe::1', 'cloud metadata', 'cloud metadata'], // Teredo server
    ['2001:0:4136:e378:8000:63bf:5601:5601', 'cloud metadata', 'cloud metadata'], // Teredo client
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'reserved', undefined], // client 192.0.2.45
    ['2001:0:4136:e378:8000:63bf:a247:27dd', 'teredo', undefined], // client 93.184.216.34
    ['::', 'unspecified', undefined],
    ['::1', 'loopback', undefined],
  ])('%s: %s by default, %s with private providers allowed', (address, byDefault, allowed) => {
    expect(refusalReason(address, publicOnly)).toBe(byDefault);
    expect(refusalReason(address, privateOk)).toBe(allowed);
  });
});

describe('refusalReason: cloud metadata endpoints, refused even with private providers allowed', () => {
  it.each([
    ['169.254.169.254', 'AWS, GCP, Azure, OpenStack IMDS'],
    ['169.254.170.2', 'AWS ECS task credentials'],
    ['169.254.170.23', 'EKS Pod Identity'],
    ['100.100.100.200', 'Alibaba Cloud'],
    ['168.63.129.16', 'Azure wireserver'],
    ['169.254.0.23', 'Tencent Cloud'],
    ['192.0.0.192', 'Oracle Cloud (legacy)'],
    ['fd00:ec2::254', 'AWS IPv6 IMDS'],
    ['fd00:ec2:0::254', 'AWS IPv6 IMDS, another spelling'],
    ['fd00:ec2::23', 'EKS Pod Identity IPv6'],
    ['fd20:ce::254', 'GCP IPv6 metadata'],
  ])('%s (%s)', (address) => {
    expect(refusalReason(address, { allowPrivate: true })).toBe('cloud metadata');
    expect(refusalReason(address, { allowPrivate: false })).toBe('cloud metadata');
  });

  it.each([
    'http://metadata.google.internal/computeMetadata/v1/',
    'http://METADATA.google.internal./computeMetadata/v1/',
    'http://metadata/computeMetadata/v1/',
    'http://metadata.goog/',
    'http://instance-data/latest/meta-data/',
  ])('the metadata host name %s, before any lookup', async (url) => {
    const error = await refusal(url, allowPrivate);
    expect(error.message).toMatch(/cloud metadata address\); never allowed/);
    await expect(assertUrlAllowed(url, { allowPrivate: true })).rejects.toBeInstanceOf(
      AddressRefusedError,
    );
  });

  it("the issue's URLs are refused before connecting", async () => {
    expect((await refusal('http://[::7f00:1]/', publicOnly)).message).toMatch(/loopback address/);
    for (const host of ['169.254.170.2', '100.100.100.200', '[64:ff9b::a9fe:a9fe]']) {
      expect((await refusal(`http://${host}/`, allowPrivate)).message).toMatch(
        /cloud metadata address\); never allowed/,
      );
    }
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

describe('refusals name the variable that allows them', () => {
  const webhooks = { allowPrivate: false, target: 'webhooks' } as const;
  const post = (url: string) =>
    postGuarded(url, '{}', { headers: {}, timeoutMs: 2_000, addressPolicy: webhooks });

  it('a webhook endpoint names ALLOW_PRIVATE_WEBHOOKS, for literals and resolved names', async () => {
    await expect(assertUrlAllowed('http://127.0.0.1:9/hooks', webhooks)).rejects.toThrow(
      /loopback address\); set ALLOW_PRIVATE_WEBHOOKS=true to allow private webhook endpoints$/,
    );
    await expect(post('http://127.0.0.1:9/hooks')).rejects.toThrow(/ALLOW_PRIVATE_WEBHOOKS=true/);
    await expect(post('http://localhost:9/hooks')).rejects.toThrow(/ALLOW_PRIVATE_WEBHOOKS=true/);
  });

  it('a provider URL names ALLOW_PRIVATE_PROVIDERS', async () => {
    await expect(assertUrlAllowed('http://127.0.0.1:9/', { allowPrivate: false })).rejects.toThrow(
      /set ALLOW_PRIVATE_PROVIDERS=true to allow private providers$/,
    );
  });
});
