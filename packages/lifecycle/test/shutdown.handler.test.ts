// onShutdownSignal in a process of its own, with real signals: the handler exits the process.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from '@jest/globals';

const LIFECYCLE = fileURLToPath(new URL('../src/index.ts', import.meta.url));
const LOGGER = fileURLToPath(new URL('../../logger/src/index.ts', import.meta.url));

// `close` announces each call, then ends as the test says on stdin: "finish", "fail", or never.
const SCRIPT = `
import { createInterface } from 'node:readline';
import { onShutdownSignal } from ${JSON.stringify(LIFECYCLE)};
import { createLogger } from ${JSON.stringify(LOGGER)};
const lines = createInterface({ input: process.stdin });
const deadlineMs = process.env.DEADLINE_MS === undefined ? undefined : Number(process.env.DEADLINE_MS);
let calls = 0;
onShutdownSignal(
  createLogger({ service: 'lifecycle-test' }),
  () => {
    calls += 1;
    process.stdout.write(JSON.stringify({ message: 'close', calls }) + '\\n');
    return new Promise((resolve, reject) =>
      lines.on('line', (line) => (line === 'fail' ? reject(new Error('boom')) : resolve())),
    );
  },
  deadlineMs === undefined ? {} : { deadlineMs },
);
// After the handler's own listener: says that a SIGINT was received (and so handled) already.
process.on('SIGINT', () => process.stdout.write(JSON.stringify({ message: 'SIGINT' }) + '\\n'));
process.stdout.write(JSON.stringify({ message: 'ready' }) + '\\n');
setInterval(() => undefined, 60_000);
`;

interface Child {
  process: ChildProcess;
  lines: Record<string, unknown>[];
  waitFor(message: string): Promise<void>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

function start(env: Record<string, string> = {}): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines: Record<string, unknown>[] = [];
  const waiters: { message: string; resolve: () => void }[] = [];
  let pending = '';
  const collect = (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const part of parts.filter((text) => text.startsWith('{'))) {
      const line = JSON.parse(part) as Record<string, unknown>;
      lines.push(line);
      for (const waiter of waiters.filter((entry) => entry.message === line.message))
        waiter.resolve();
    }
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exit = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  return {
    process: child,
    lines,
    exit,
    waitFor: (message) =>
      lines.some((line) => line.message === message)
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({ message, resolve })),
  };
}

const messages = (child: Child) => child.lines.map((line) => line.message);

/** A child that got `signal` once ready and is now running its close function. */
async function closing(signal: NodeJS.Signals): Promise<Child> {
  const child = start();
  await child.waitFor('ready');
  child.process.kill(signal);
  await child.waitFor('close');
  return child;
}

describe('onShutdownSignal', () => {
  it('runs close once on SIGTERM, ignores SIGINT while closing, then exits 0', async () => {
    const child = await closing('SIGTERM');
    child.process.kill('SIGINT');
    await child.waitFor('SIGINT');
    child.process.stdin!.write('finish\n');
    expect(await child.exit).toEqual({ code: 0, signal: null });
    expect(messages(child)).toEqual(['ready', 'shutting down', 'close', 'SIGINT', 'stopped']);
    expect(child.lines.find((line) => line.message === 'shutting down')).toMatchObject({
      signal: 'SIGTERM',
    });
  });

  it('exits 1 and says why when close fails', async () => {
    const child = await closing('SIGINT');
    child.process.stdin!.write('fail\n');
    expect(await child.exit).toEqual({ code: 1, signal: null });
    expect(child.lines.at(-1)).toMatchObject({ message: 'shutdown failed', error: 'Error: boom' });
  });

  it('exits 1 at the deadline when close hangs', async () => {
    const child = start({ DEADLINE_MS: '300' });
    await child.waitFor('ready');
    child.process.kill('SIGTERM');
    expect(await child.exit).toEqual({ code: 1, signal: null });
    expect(messages(child)).toEqual([
      'ready',
      'shutting down',
      'close',
      'shutdown deadline passed; exiting anyway',
    ]);
  });

  it('leaves the same signal twice to Node: the second ends the process at once', async () => {
    const child = await closing('SIGTERM');
    child.process.kill('SIGTERM');
    expect(await child.exit).toEqual({ code: null, signal: 'SIGTERM' });
    expect(messages(child)).not.toContain('stopped');
  });
});
