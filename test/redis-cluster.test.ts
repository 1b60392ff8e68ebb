// Redis Cluster readiness: with a hash-tagged QUEUE_PREFIX ({marquee}), every key Marquee writes
// (BullMQ's queue keys for jobs in every state and Job Schedulers, the API cache, the scheduler's
// lease, breaker reports) hashes to one slot, so multi-key commands and Lua scripts work on a
// cluster. Checked on a real Redis by listing the keys actually written.
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from '@jest/globals';
import { Worker, UnrecoverableError } from 'bullmq';
import { Redis } from 'ioredis';
import { SearchCache } from '@marquee/cache';
import { writeBreakerStatus } from '@marquee/provider-status';
import { IngestQueue } from '@marquee/queue';
import { LeaderLease } from '@marquee/scheduler';
import { uniquePrefix } from '@marquee/testing';

const REDIS_URL = 'redis://127.0.0.1:6379/0';

/** CRC16/XMODEM as Redis Cluster uses it, over the hash tag when the key has one. */
function hashSlot(key: string): number {
  const open = key.indexOf('{');
  if (open !== -1) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) key = key.slice(open + 1, close);
  }
  let crc = 0;
  for (const byte of Buffer.from(key, 'utf8')) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit += 1) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
  }
  return crc % 16384;
}

const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
const written: string[] = [];

afterAll(async () => {
  if (written.length > 0) await redis.del(...written);
  await redis.quit();
});

/** Drives every writer Marquee has under `prefix`; returns the keys that now exist for it. */
async function writeEverything(prefix: string): Promise<string[]> {
  const ingest = new IngestQueue({ connection: redis, prefix });
  const providerId = '3f1d2c4b-5a69-4788-9a0b-1c2d3e4f5a6b';
  await ingest.enqueueSync({ providerId, trigger: 'manual' });
  // The waiting list KEDA's redis trigger reads (k8s/base/worker.scaledobject.yaml).
  expect(await redis.llen(`${prefix}:ingest:wait`)).toBe(1);
  await ingest.upsertSchedule({ id: providerId, name: 'acme', everySeconds: 3600 });
  await ingest.enqueueSync({ providerId, trigger: 'manual' }, { delay: 3_600_000 });
  await ingest.enqueueSync({ providerId, trigger: 'manual' }, { priority: 5 });
  const workerRedis = redis.duplicate();
  const worker = new Worker(
    'ingest',
    // The prioritized job fails for good (a failed-set entry); the others complete.
    (job) =>
      (job.opts.priority ?? 0) > 0
        ? Promise.reject(new UnrecoverableError('fails for good'))
        : Promise.resolve({ ok: true }),
    { connection: workerRedis, prefix, concurrency: 1 },
  );
  const processed = new Promise<void>((resolve) => {
    let count = 0;
    const done = () => (++count >= 3 ? resolve() : undefined);
    worker.on('completed', done);
    worker.on('failed', done);
  });
  await processed;
  await worker.close();
  await workerRedis.quit();
  await ingest.removeSchedule(IngestQueue.scheduleId('acme'));

  const cache = new SearchCache({ redis, prefix, ttlSeconds: 60 });
  await cache.get('search:-:-', () => Promise.resolve('{"data":{"events":[]},"error":null}'));
  await cache.bumpVersion();
  const lease = new LeaderLease(redis, `${prefix}:scheduler:leader`, 'me', 10_000);
  expect(await lease.acquireOrRenew()).toBe(true);
  await writeBreakerStatus(redis, prefix, providerId, {
    state: 'open',
    reportedBy: 'test',
    updatedAt: new Date().toISOString(),
  });
  await ingest.close();

  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(
      cursor,
      'MATCH',
      `*${prefix.replace(/[{}*?[\]]/g, '\\$&')}*`,
      'COUNT',
      1000,
    );
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  written.push(...keys);
  return keys;
}

describe('hash slots', () => {
  it('computes slots exactly as the cluster client does', () => {
    // ioredis routes commands with cluster-key-slot; it is its dependency, resolved from there.
    const fromIoredis = createRequire(createRequire(import.meta.url).resolve('ioredis'));
    const calculateSlot = fromIoredis('cluster-key-slot') as (key: string) => number;
    for (const key of [
      'marquee:ingest:wait',
      '{marquee}:ingest:wait',
      '{marquee}:cache:version',
      '{}x',
      'ünïcode',
      '123456789',
    ]) {
      expect({ key, slot: hashSlot(key) }).toEqual({ key, slot: calculateSlot(key) });
    }
    expect(hashSlot('123456789')).toBe(12739);
  });

  it('with QUEUE_PREFIX={…}, every key the queue, the cache, the lease and the breakers write shares one slot', async () => {
    const prefix = `{${uniquePrefix('cluster')}}`;
    const keys = await writeEverything(prefix);
    const kinds = new Set(
      keys.map((key) =>
        key
          .slice(prefix.length + 1)
          .split(':')
          .slice(0, 2)
          .join(':'),
      ),
    );
    // The writers really wrote: queue lists and sets, job hashes, schedulers, cache, lease, breaker.
    for (const kind of [
      'ingest:delayed',
      'ingest:completed',
      'ingest:failed',
      'ingest:meta',
      'ingest:events',
      'cache:version',
      'scheduler:leader',
      'breaker:3f1d2c4b-5a69-4788-9a0b-1c2d3e4f5a6b',
    ]) {
      expect([...kinds]).toContain(kind);
    }
    expect(keys.every((key) => key.startsWith(`${prefix}:`))).toBe(true);
    const slots = new Set(keys.map(hashSlot));
    expect(slots).toEqual(new Set([hashSlot(prefix)]));
  });

  it('without the braces the same keys spread over many slots (so the check can fail)', async () => {
    const prefix = uniquePrefix('cluster-plain');
    const keys = await writeEverything(prefix);
    expect(new Set(keys.map(hashSlot)).size).toBeGreaterThan(5);
  });
});
