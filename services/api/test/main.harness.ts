import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  createTestDatabase,
  uniquePrefix,
  type TestDatabase,
  type TestHook,
} from '@marquee/testing';
import { REDIS_URL } from './api.fixture.ts';

const serviceDir = fileURLToPath(new URL('..', import.meta.url));

export interface ApiMain {
  /** The JSON log lines of the started process so far, stdout and stderr. */
  lines: Record<string, unknown>[];
  /**
   * Starts the api's main as the package's `start` script runs it (signals reach main.ts itself,
   * not a tsx wrapper), on 127.0.0.1 and any free port, with a database of the file's own.
   */
  start(env: Record<string, string>): ChildProcess;
}

/** The api's main for a test file: its database made by `beforeAll`; `afterAll` cleans up. */
export function apiMainFor(
  label: string,
  hooks: { beforeAll: TestHook; afterAll: TestHook },
): ApiMain {
  let database: TestDatabase | undefined;
  let child: ChildProcess | undefined;
  hooks.beforeAll(async () => {
    database = await createTestDatabase(label);
  });
  hooks.afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await database?.drop();
  });
  const lines: Record<string, unknown>[] = [];
  let pending = '';
  const collect = (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const part of parts)
      if (part.startsWith('{')) lines.push(JSON.parse(part) as Record<string, unknown>);
  };
  const start = (env: Record<string, string>) => {
    child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: serviceDir,
      env: {
        ...process.env,
        DATABASE_URL: database!.url,
        REDIS_URL,
        QUEUE_PREFIX: uniquePrefix(label),
        API_HOST: '127.0.0.1',
        API_PORT: '0',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    return child;
  };
  return { lines, start };
}
