// The `marquee` command as users run it: its bin and bundle, as a process. Exit codes and
// output streams, fail-fast with PostgreSQL or Redis unreachable, and `sync --wait` against a
// real worker and a feed that fails.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { feverFixture, freePort, REPO_ROOT } from '@marquee/testing';
import { providersAdd, useCliStack } from './cli.harness.ts';

const stack = useCliStack({ label: 'cli-process' });
const marquee = (args: string[], extra: NodeJS.ProcessEnv = {}) => stack.with(extra).bin(...args);

// After an edit of the CLI's sources the first run rebuilds the bundle (and says so on stderr).
beforeAll(() => marquee(['--version']));

describe('usage, version and exit codes', () => {
  it('--version prints the version alone; --help lists the commands; both exit 0', async () => {
    const version = await marquee(['--version']);
    expect(version).toEqual({ code: 0, stdout: '0.1.0\n', stderr: '' });
    const help = await marquee(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['migrate', 'providers', 'sync', 'keys', 'jobs'])
      expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    expect(help.stdout).toContain('Exit codes: 0 success, 1');
  });

  it('--help and --version load none of the client libraries: commands import them on use', async () => {
    expect((await marquee(['--version'])).code).toBe(0);
    // What Node evaluates before the first line of main.ts: the entry and its static imports,
    // not the chunks reached by import() only.
    const dist = join(REPO_ROOT, 'packages/cli/dist');
    const loaded = new Map<string, string>();
    const visit = (file: string) => {
      if (loaded.has(file)) return;
      const text = readFileSync(join(dist, file), 'utf8');
      loaded.set(file, text);
      for (const [, path] of text.matchAll(/(?:from|import)\s*"\.\/([^"]+)"/g))
        visit(join(dirname(file), path ?? ''));
    };
    visit('marquee.js');
    const startup = [...loaded.values()].join('\n');
    expect(startup).toContain('Exit codes: 0 success, 1');
    // Prisma's client, BullMQ, the provider kinds' XML parser and got.
    for (const library of [
      'getPrismaClient',
      'QueueEvents=class',
      'XMLParser=class',
      'HTTPError=class',
    ])
      expect({ library, loaded: startup.includes(library) }).toEqual({ library, loaded: false });
  });

  it.each([
    [['--frobnicate']],
    [['frobnicate']],
    [['sync']],
    [['providers', 'add', 'x', '--kind', 'fever-xml']],
    [['sync', 'x', '--timeout', 'soon']],
    [['jobs', 'failed', '--limit', '0']],
  ])('exits 2 on bad usage: %j', async (args) => {
    const result = await marquee(args);
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: '' });
    expect(result.stderr).toMatch(/^error: /m);
  });

  it('--json prints JSON and nothing else on stdout', async () => {
    const added = await marquee(
      providersAdd('json-one', 'fever-xml', 'http://127.0.0.1:9/feed.xml', '--disabled'),
    );
    expect(added.code).toBe(0);
    for (const args of [
      ['providers', 'list', '--json'],
      ['keys', 'list', '--json'],
      ['jobs', 'failed', '--json'],
    ]) {
      const result = await marquee(args);
      expect({ args, code: result.code }).toEqual({ args, code: 0 });
      expect(() => JSON.parse(result.stdout) as unknown).not.toThrow();
    }
    const list = JSON.parse((await marquee(['providers', 'list', '--json'])).stdout) as {
      name: string;
      breaker: { state: string };
    }[];
    expect(list).toMatchObject([{ name: 'json-one', breaker: { state: 'closed' } }]);
  });
});

describe('with PostgreSQL or Redis unreachable', () => {
  const needsPostgres = [
    ['migrate'],
    ['providers', 'add', 'p', '--kind', 'fever-xml', '--url', 'http://127.0.0.1:9/f.xml'],
    ['providers', 'list'],
    ['providers', 'remove', 'p'],
    ['providers', 'enable', 'p'],
    ['providers', 'disable', 'p'],
    ['sync', 'p', '--wait'],
    ['keys', 'create', 'k'],
    ['keys', 'list'],
    ['keys', 'revoke', '3f1d2c4b-5a69-4788-9a0b-1c2d3e4f5a6b'],
    ['jobs', 'failed'],
  ];
  const needsRedis = [
    ['providers', 'list', '--json'],
    ['sync', 'json-one', '--wait'],
    ['jobs', 'failed'],
    ['jobs', 'retry', '--all'],
    ['jobs', 'retry', '7'],
  ];

  /** Runs each command; every one must fail in time with the one line `expected`. */
  async function expectAllFail(commands: string[][], extra: NodeJS.ProcessEnv, expected: RegExp) {
    const results = [];
    // Four at a time: the machine has two cores and other tests run beside these.
    for (let start = 0; start < commands.length; start += 4) {
      const batch = commands.slice(start, start + 4);
      results.push(
        ...(await Promise.all(
          batch.map(async (args) => {
            const started = Date.now();
            const result = await marquee(args, extra);
            return { args, ...result, seconds: (Date.now() - started) / 1000 };
          }),
        )),
      );
    }
    for (const { args, code, stdout, stderr, seconds } of results) {
      expect({ args, code, stdout, stderr }).toEqual({
        args,
        code: 1,
        stdout: '',
        stderr: expect.stringMatching(expected),
      });
      expect({ args, fast: seconds < 10 }).toEqual({ args, fast: true });
    }
  }

  it('PostgreSQL: every command that needs it exits 1 with one line naming it', async () => {
    const port = await freePort();
    await expectAllFail(
      needsPostgres,
      { DATABASE_URL: `postgresql://postgres:s3cret@127.0.0.1:${port}/marquee` },
      new RegExp(
        `^error: PostgreSQL at 127\\.0\\.0\\.1:${port} is unreachable \\(connect ECONNREFUSED\\)\\n$`,
      ),
    );
  });

  it('Redis: every command that needs it exits 1 with one line naming it', async () => {
    const port = await freePort();
    await expectAllFail(
      needsRedis,
      { REDIS_URL: `redis://:s3cret@127.0.0.1:${port}/0` },
      new RegExp(
        `^error: Redis at 127\\.0\\.0\\.1:${port} is unreachable \\(connect ECONNREFUSED\\)\\n$`,
      ),
    );
  });
});

describe('sync --wait with a worker', () => {
  const FEED = feverFixture('response_1.xml');
  let failuresLeft = 1;
  // A stack of its own: its worker starts with the tests that need it.
  const synced = useCliStack({
    label: 'cli-process-sync',
    // A feed that fails once, and one that is gone.
    feed: (request, response) => {
      if (request.url === '/gone.xml') {
        response.writeHead(404).end();
        return;
      }
      if (failuresLeft > 0) {
        failuresLeft -= 1;
        response.writeHead(503).end();
        return;
      }
      response.writeHead(200, { 'content-type': 'application/xml' }).end(FEED);
    },
    worker: 'process',
    workerEnv: { WORKER_CONCURRENCY: '1' },
  });

  beforeAll(async () => {
    for (const [name, path] of [
      ['flaky', '/feed.xml'],
      ['gone', '/gone.xml'],
    ] as const) {
      const added = await synced.bin(
        ...providersAdd(name, 'fever-xml', `${synced.feed.url}${path}`),
      );
      expect(added.code).toBe(0);
    }
  });

  it('shows the failed attempt with its error, the breaker and the next retry, then succeeds', async () => {
    const result = await synced.bin('sync', 'flaky', '--wait', '--timeout', '90s');
    expect({ code: result.code, stderr: result.stderr }).toEqual({
      code: 0,
      stderr: expect.stringMatching(
        /attempt 1\/5 failed: .*HTTP 503.*; breaker closed; next retry at \d{4}-\d\d-\d\dT[\d:]+Z \(in \d+ s\)/,
      ),
    });
    expect(result.stderr).toMatch(/^queued sync of flaky \(job \S+\)$/m);
    // A sync shorter than one progress interval reports no progress (sync.progress.ts): the
    // second attempt shows as started, then the summary.
    expect(result.stderr).toMatch(/^attempt 2\/5: started$/m);
    expect(result.stdout).toMatch(/^flaky: succeeded; fetched \d+, parsed \d+, upserted \d+/);
  });

  it('exits 1 when the sync fails for good, naming the error', async () => {
    const result = await synced.bin('sync', 'gone', '--wait', '--timeout', '60s');
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /attempt 1\/5 failed: .*404.*; breaker closed; not retried \(permanent\)/,
    );
    expect(result.stderr).toMatch(/^error: sync of gone failed after 1 attempt\(s\): .*404/m);
  });
});
