// `pnpm start` as a new user runs it: an empty machine state (no database yet), local defaults,
// the sample provider, and results at /search within a minute; ended by Ctrl-C or SIGTERM with
// a clean exit.
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it, jest } from '@jest/globals';
import pg from 'pg';
import {
  createTestDatabase,
  eventually,
  freePort,
  removeQueue,
  REPO_ROOT,
  uniquePrefix,
  type LongRunning,
  type TestDatabase,
} from '@marquee/testing';

// Five processes, each compiled by tsx, may take their whole documented minute to come up on a
// loaded machine; then the banner, and a stop that may wait for its SIGKILL deadline.
jest.setTimeout(150_000);

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/**
 * `pnpm start` itself, as a terminal runs it: in a process group of its own, which Ctrl-C
 * signals whole (pnpm, its script shell, start.ts).
 */
function pnpmStart(env: NodeJS.ProcessEnv): LongRunning & { interrupt(): Promise<number | null> } {
  const child = spawn('pnpm', ['start'], {
    cwd: REPO_ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const signal = async (send: () => void) => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    send();
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 45_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  return {
    child,
    output: () => output,
    // SIGTERM to pnpm alone, as `kill` or a process manager sends it.
    stop: () => signal(() => child.kill('SIGTERM')),
    interrupt: () => signal(() => process.kill(-child.pid!, 'SIGINT')),
  };
}

async function stack(label: string, extra: NodeJS.ProcessEnv) {
  const database: TestDatabase = await createTestDatabase(label, { migrate: false });
  const prefix = uniquePrefix(label);
  const port = await freePort();
  const started = pnpmStart({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: database.url,
    QUEUE_PREFIX: prefix,
    API_PORT: String(port),
    SAMPLE_PORT: '0',
    // Any free port: a fixed one may be taken by another test's stack.
    DASHBOARD_PORT: '0',
    LOG_LEVEL: 'warn',
    ...extra,
  });
  cleanups.push(async () => {
    await started.stop();
    await removeQueue(prefix);
    await database.drop();
  });
  return { started, database, api: `http://localhost:${port}` };
}

describe('pnpm start', () => {
  it('migrates, registers the sample provider and serves its events within a minute; Ctrl-C stops it, exit 0', async () => {
    const { started, database, api } = await stack('start', {});
    const began = Date.now();
    const events = await eventually(
      async () => {
        const body = (await (await fetch(`${api}/search`)).json()) as {
          data: { events: { title: string }[] };
        };
        return body.data.events.length > 0 ? body.data.events : undefined;
      },
      60_000,
      () => `events at /search; output so far:\n${started.output()}`,
    );
    expect(Date.now() - began).toBeLessThan(60_000);
    expect(events.map((event) => event.title)).toEqual([
      'Pantomima Full',
      'Camela en concierto',
      'Los Morancos',
    ]);
    // start.ts prints the banner when its own poll finds the api and the dashboard healthy,
    // which can come a moment after /search first answered.
    await eventually(
      () =>
        Promise.resolve(
          started.output().includes("Marquee is up: curl 'http://localhost:") || undefined,
        ),
      15_000,
      () => `the "Marquee is up" banner; output so far:\n${started.output()}`,
    );
    // The generated dashboard password is shown once, and it opens the dashboard.
    const banner =
      /dashboard: (http:\/\/localhost:\d+\/) {2}\(user admin, password (\S+) \(generated/.exec(
        started.output(),
      );
    expect(banner).not.toBeNull();
    const [, dashboard, password] = banner!;
    expect(started.output().split(password!).length - 1).toBe(1);
    expect((await fetch(dashboard!)).status).toBe(401);
    const authorization = `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;
    expect((await fetch(dashboard!, { headers: { authorization } })).status).toBe(200);

    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const { rows } = await client.query<{ name: string }>('SELECT name FROM providers');
    await client.end();
    expect(rows).toEqual([{ name: 'fever-sample' }]);

    // Ctrl-C: SIGINT to the whole process group, as a terminal sends it.
    expect(await started.interrupt()).toBe(0);
    expect(started.output()).toContain('[start] stopped');
    expect(started.output()).not.toContain('ELIFECYCLE');
  });

  it('starts with no providers when SAMPLE_PROVIDERS=false; SIGTERM to pnpm stops it all, exit 0', async () => {
    const { started, database, api } = await stack('start-empty', { SAMPLE_PROVIDERS: 'false' });
    await eventually(
      async () => ((await fetch(`${api}/readyz`)).ok ? true : undefined),
      60_000,
      () => `the api; output so far:\n${started.output()}`,
    );
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const { rows } = await client.query('SELECT name FROM providers');
    await client.end();
    expect(rows).toEqual([]);
    expect(await started.stop()).toBe(0);
    // pnpm waited for the stack: nothing left serving, and no ELIFECYCLE complaint.
    expect(started.output()).toContain('[start] stopped');
    expect(started.output()).not.toContain('ELIFECYCLE');
    await expect(fetch(`${api}/healthz`)).rejects.toThrow();
  });
});
