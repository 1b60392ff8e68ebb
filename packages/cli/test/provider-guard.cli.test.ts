// Issue 4 in the CLI: the SSRF guard on `providers add` / `providers test`, and the BREAKER
// column of `providers list`, run in-process against a test database and Redis.
import { describe, expect, it } from '@jest/globals';
import { writeBreakerStatus } from '@marquee/provider-status';
import { providersAdd, providersTest, useCliStack } from './cli.harness.ts';

const stack = useCliStack({ label: 'cli-guard' });
/** As deployed: ALLOW_PRIVATE_PROVIDERS unset. */
const guarded = () => stack.with({ ALLOW_PRIVATE_PROVIDERS: 'false' });

/** `providers list --json`: each provider's breaker. */
async function breakers(): Promise<unknown[]> {
  const listed = await stack.marquee('providers', 'list', '--json');
  return (JSON.parse(listed.out) as { breaker: unknown }[]).map((view) => view.breaker);
}

describe('SSRF guard in the CLI', () => {
  it.each([
    'http://127.0.0.1:8080/feed.xml',
    'http://localhost/feed.xml',
    'http://[::1]/x',
    'http://10.0.0.7/x',
  ])('providers add refuses %s unless ALLOW_PRIVATE_PROVIDERS=true', async (url) => {
    const refused = await guarded().marquee(...providersAdd('local', 'fever-xml', url));
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/--url: refused to connect to .*ALLOW_PRIVATE_PROVIDERS=true/);
  });

  it('providers add accepts a private URL when allowed', async () => {
    const add = providersAdd('local', 'fever-xml', 'http://127.0.0.1:9/feed.xml');
    expect((await stack.marquee(...add)).code).toBe(0);
  });

  it('providers test refuses a private address before connecting', async () => {
    const test = providersTest('fever-xml', 'http://10.9.8.7/feed.xml');
    const result = await guarded().marquee(...test);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/refused to connect to 10\.9\.8\.7 \(private address\)/);
  });
});

describe('providers list shows breakers', () => {
  it('BREAKER column and json field: closed by default, open with the last error when reported', async () => {
    const closed = await stack.marquee('providers', 'list');
    expect(closed.out).toMatch(/BREAKER/);
    expect(closed.out).toMatch(/ closed /);
    expect(await breakers()).toEqual([
      { state: 'closed', lastError: null, lastErrorAt: null, probeAt: null, updatedAt: null },
    ]);

    const provider = await stack.providers.findByName('local');
    await writeBreakerStatus(stack.redis, stack.prefix, provider?.id ?? '', {
      state: 'open',
      lastError: 'HTTP 503 Service Unavailable',
      lastErrorAt: '2030-01-01T00:00:00.000Z',
      probeAt: '2030-01-01T00:01:00.000Z',
      reportedBy: 'host:1',
      updatedAt: '2030-01-01T00:00:00.000Z',
    });
    const open = await stack.marquee('providers', 'list');
    expect(open.out).toMatch(/open until 2030-01-01T00:01:00.000Z: HTTP 503 Service Unavailable/);
    expect(await breakers()).toMatchObject([
      { state: 'open', lastError: 'HTTP 503 Service Unavailable' },
    ]);
  });
});
