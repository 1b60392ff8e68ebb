// The two failure policies against real servers: the shared Redis, a port nothing listens on, and
// a redis-server of this file's own started late (the shared one is never stopped).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { freePort, uniquePrefix } from '@marquee/testing';
import { createRedis, FAIL_FAST_COMMAND_TIMEOUT_MS } from '../src/index.ts';

const SHARED_URL = 'redis://127.0.0.1:6379/0';
const clients: Redis[] = [];
let server: ChildProcess | undefined;

afterAll(() => {
  for (const client of clients) client.disconnect();
  server?.kill('SIGKILL');
});

function client(...args: Parameters<typeof createRedis>): Redis {
  const redis = createRedis(...args);
  // Connection errors are expected here; unhandled, ioredis would print each one.
  redis.on('error', () => undefined);
  clients.push(redis);
  return redis;
}

describe('createRedis', () => {
  it('fail-fast: a command fails at once while Redis is unreachable', async () => {
    const redis = client(`redis://127.0.0.1:${await freePort()}/0`, 'fail-fast');
    // Refused by the client itself (no offline queue), not after waiting for an answer: a
    // command that waited would fail with "Command timed out" or a retry limit instead.
    await expect(redis.get('key')).rejects.toThrow(/enableOfflineQueue options is false/);
  });

  it('fail-fast: a command Redis does not answer in time fails', async () => {
    const redis = client(SHARED_URL, 'fail-fast');
    // No offline queue: a command sent before the connection is ready would fail too.
    await once(redis, 'ready');
    // Blocks this connection only, three times longer than a fail-fast command may wait.
    const key = `${uniquePrefix('redis-client')}:never-pushed`;
    const started = Date.now();
    await expect(redis.blpop(key, (FAIL_FAST_COMMAND_TIMEOUT_MS * 3) / 1000)).rejects.toThrow(
      'Command timed out',
    );
    expect(Date.now() - started).toBeLessThan(FAIL_FAST_COMMAND_TIMEOUT_MS * 2);
  });

  it('blocking: a command waits for Redis to come up, then runs', async () => {
    const port = await freePort();
    const redis = client(`redis://127.0.0.1:${port}/0`, 'blocking');
    const answer = redis.ping();
    let settled = false;
    void answer.finally(() => (settled = true)).catch(() => undefined);
    // Several connection attempts fail before the server exists; the command outlives them all.
    await new Promise<void>((resolve) => {
      let failures = 0;
      redis.on('error', () => (failures += 1) === 3 && resolve());
    });
    expect(settled).toBe(false);
    server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', ''], {
      stdio: 'ignore',
    });
    await expect(answer).resolves.toBe('PONG');
  });
});
