import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { eventually, freePort } from './process.runner.ts';

/** A redis-server of a test's own, on a free port: the shared Redis on 6379 is never touched. */
export interface RedisServer {
  url: string;
  /** Starts it again on the same port and arguments, after `stop()`. */
  start(): Promise<void>;
  /** SIGTERM, then waits for the exit; nothing when it is not running. */
  stop(): Promise<void>;
}

/** Starts redis-server on 127.0.0.1 with no snapshots and `args`, and waits for it to answer. */
export async function startRedisServer(args: readonly string[] = []): Promise<RedisServer> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}/0`;
  let child: ChildProcess | undefined;
  const server: RedisServer = {
    url,
    async start() {
      child = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...args],
        { stdio: 'ignore' },
      );
      await eventually(
        async () => {
          const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
          try {
            await probe.connect();
            return (await probe.ping()) === 'PONG' ? true : undefined;
          } finally {
            probe.disconnect();
          }
        },
        10_000,
        'redis-server to answer',
      );
    },
    async stop() {
      const running = child;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      running.kill('SIGTERM');
      await once(running, 'exit');
    },
  };
  await server.start();
  return server;
}
