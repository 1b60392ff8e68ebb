import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, eventually, uniquePrefix, type TestDatabase } from '@marquee/testing';
import { REDIS_URL } from './api.fixture.ts';

const serviceDir = fileURLToPath(new URL('..', import.meta.url));

let database: TestDatabase;
let child: ChildProcess | undefined;
const lines: Record<string, unknown>[] = [];

beforeAll(async () => {
  database = await createTestDatabase('api-cluster');
});

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await database.drop();
});

const linesWith = (message: string) => lines.filter((line) => line.message === message);

describe('main with API_WORKERS=2', () => {
  it('serves one port from two worker processes and exits 0 after SIGTERM', async () => {
    child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: serviceDir,
      env: {
        ...process.env,
        DATABASE_URL: database.url,
        REDIS_URL,
        QUEUE_PREFIX: uniquePrefix('api-cluster'),
        API_HOST: '127.0.0.1',
        API_PORT: '0',
        API_WORKERS: '2',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let pending = '';
    const collect = (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      for (const part of parts)
        if (part.startsWith('{')) lines.push(JSON.parse(part) as Record<string, unknown>);
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);

    await eventually(
      () => Promise.resolve(linesWith('listening').length >= 2 ? true : undefined),
      30_000,
      'two listening workers',
    );
    // Port 0 in a cluster: the primary binds once and both workers share that port.
    const ports = new Set(linesWith('listening').map((line) => line.port));
    expect(ports.size).toBe(1);
    const url = `http://127.0.0.1:${String([...ports][0])}`;
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => fetch(`${url}/search?starts_at=2021-01-01`)),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(200));
    expect(await answers[0]!.json()).toEqual({ data: { events: [] }, error: null });

    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
    expect(linesWith('stopped')).toHaveLength(2);
  });
});
