// `pnpm bench:providers`: a deployment's scale in providers. 10,000 providers × 10 events
// (BENCH_PROVIDERS, BENCH_PROVIDER_EVENTS) registered with `marquee providers apply -f` (in
// process: `applyProviderFile`), their Job Schedulers written by the scheduler's reconcile, one
// cycle drained by one worker process, and the Redis memory the queue holds per provider.
// Prints its results (bench/RESULTS.md's Ingest notes quote them).
import { loadavg } from 'node:os';
import { reconcileSchedules } from '@marquee/scheduler';
import { BenchStack, sleep } from './bench.stack.ts';
import { generateFeeds } from './feed.generator.ts';

const count = Number(process.env.BENCH_PROVIDERS ?? 10_000);
const events = Number(process.env.BENCH_PROVIDER_EVENTS ?? 10);
// The production overlay's WORKER_CONCURRENCY (k8s/overlays/production).
const concurrency = process.env.BENCH_WORKER_CONCURRENCY ?? '64';
const load = () => loadavg()[0]!.toFixed(2);

/** MEMORY USAGE of every key under the queue prefix, in bytes, grouped by what the key holds. */
async function queueMemory(stack: BenchStack): Promise<Record<string, number>> {
  const groups: Record<string, number> = {};
  let cursor = '0';
  do {
    const [next, keys] = await stack.redis.scan(
      cursor,
      'MATCH',
      `${stack.prefix}:*`,
      'COUNT',
      1000,
    );
    cursor = next;
    const sizes = await Promise.all(keys.map((key) => stack.redis.memory('USAGE', key)));
    keys.forEach((key, index) => {
      // <prefix>:ingest:repeat:<scheduler> is a Job Scheduler, with a further :<ms> its job.
      const rest = key.slice(stack.prefix.length + 1).split(':');
      const group =
        rest[1] === 'repeat'
          ? rest.length > 3
            ? 'scheduled job'
            : 'job scheduler'
          : /^\d+$/.test(rest[1] ?? '')
            ? 'job'
            : rest.slice(0, 2).join(':');
      groups[group] = (groups[group] ?? 0) + Number(sizes[index] ?? 0);
    });
  } while (cursor !== '0');
  return groups;
}

const total = (groups: Record<string, number>) => Object.values(groups).reduce((a, b) => a + b, 0);

const stack = new BenchStack();
await stack.start();
try {
  const { created, registerMs } = await stack.applyFeverProviders(
    Array.from({ length: count }, (_, index) => ({
      name: `venue-${index}`,
      path: `/v${index}.xml`,
      document: generateFeeds({ events, changedShare: 0, seed: 5_000 + index }).feverA,
    })),
  );
  console.log(JSON.stringify({ registerMs, created, load: load() }));

  let started = performance.now();
  const reconciled = await reconcileSchedules(stack.providers, stack.queue);
  const reconcileMs = performance.now() - started;
  const scheduled = await queueMemory(stack);
  console.log(
    JSON.stringify({ reconcileMs, upserted: reconciled.upserted.length, load: load(), scheduled }),
  );

  await stack.startWorker({
    WORKER_CONCURRENCY: concurrency,
    METRICS_PORT: '0',
    POLITE_MIN_DELAY_MS: '0',
    POLITE_HOST_CONCURRENCY: concurrency,
  });
  started = performance.now();
  const cpuBefore = stack.workersCpuSeconds();
  for (;;) {
    const rows = await stack.db.$queryRaw<{ n: bigint }[]>`
      SELECT count(*) AS n FROM sync_runs WHERE status <> 'running'`;
    if (Number(rows[0]?.n ?? 0) >= count) break;
    if (performance.now() - started > 1_800_000) throw new Error('cycle did not drain');
    await sleep(250);
  }
  const drainMs = performance.now() - started;
  const workerCpuMsPerJob = ((stack.workersCpuSeconds() - cpuBefore) * 1000) / count;
  await stack.stopWorkers();
  const drained = await queueMemory(stack);
  const perProvider = total(drained) / count;
  console.log(
    JSON.stringify({
      drainMs,
      msPerProvider: drainMs / count,
      workerCpuMsPerJob,
      load: load(),
      drained,
      bytesPerProvider: Math.round(perProvider),
      projected100kMb: Math.round((perProvider * 100_000) / 1e6),
      scheduledBytesPerProvider: Math.round(total(scheduled) / count),
    }),
  );
} finally {
  await stack.close();
}
