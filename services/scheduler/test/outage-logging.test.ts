// While PostgreSQL is down the scheduler's loops fail every second: a leader loop (the webhook
// dispatcher) and the provider change listener's reconnection each log it once per 10 s, not
// once per attempt, and the loop says when it works again.
import { PassThrough } from 'node:stream';
import { expect, it } from '@jest/globals';
import { createDb } from '@marquee/db';
import { createLogger } from '@marquee/logger';
import { eventually, freePort } from '@marquee/testing';
import { startLeaderLoop } from '../src/leader.loop.ts';
import { listenForProviderChanges } from '../src/provider-change.listener.ts';

it('failing passes are one log line, and the pass that works again says so', async () => {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const lines = () =>
    text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  let passes = 0;
  const loop = startLeaderLoop({
    name: 'webhook dispatch',
    intervalMs: 10,
    isLeader: () => true,
    logger: createLogger({ service: 'scheduler', stream }),
    pass: () => {
      passes += 1;
      return passes <= 20
        ? Promise.reject(new Error("Can't reach database server at 127.0.0.1:5432"))
        : Promise.resolve();
    },
  });
  try {
    await eventually(() => Promise.resolve(passes > 25 || undefined), 10_000, '25 passes');
  } finally {
    await loop.stop();
  }
  expect(
    lines().map(({ level, message, error, failures }) => ({ level, message, error, failures })),
  ).toEqual([
    {
      level: 'error',
      message: 'webhook dispatch failed',
      error: "Can't reach database server at 127.0.0.1:5432",
      failures: undefined,
    },
    { level: 'info', message: 'webhook dispatch recovered', error: undefined, failures: 20 },
  ]);
});

it('a provider change listener that cannot reach PostgreSQL says so once, not every second', async () => {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  // Nothing listens there: every attempt (one per second) is refused.
  const port = await freePort();
  const listener = listenForProviderChanges(
    `postgres://postgres@127.0.0.1:${port}/marquee`,
    () => undefined,
    createLogger({ service: 'scheduler', stream }),
  );
  try {
    await new Promise((resolve) => setTimeout(resolve, 3_500));
  } finally {
    await listener.close();
  }
  const said = text.split('\n').filter((line) => line.includes('cannot connect'));
  expect(said).toHaveLength(1);
  expect(said[0]).toMatch(/ECONNREFUSED/);
});

it("a pass failing on the database logs the cause, not Prisma's code frame", async () => {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  // Nothing listens there: every query is refused.
  const db = createDb({ databaseUrl: `postgres://postgres@127.0.0.1:${await freePort()}/marquee` });
  const loop = startLeaderLoop({
    name: 'change feed purge',
    intervalMs: 10,
    isLeader: () => true,
    logger: createLogger({ service: 'scheduler', stream }),
    pass: async () => void (await db.$queryRaw`SELECT 1`),
  });
  try {
    await eventually(() => Promise.resolve(text || undefined), 10_000, 'a failed pass');
  } finally {
    await loop.stop();
    await db.$disconnect();
  }
  const line = JSON.parse(text.split('\n')[0]!) as { message: string; error: string };
  expect(line.message).toBe('change feed purge failed');
  expect(line.error).toMatch(/^database error: .*127\.0\.0\.1/);
  expect(line.error).not.toMatch(/Invalid|invocation|\n/);
});
