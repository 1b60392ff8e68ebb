import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '@marquee/logger';
import { serveClusterMetrics } from '@marquee/metrics';

// Workers drain within 10 s of SIGTERM (api.server.ts); give them that and a little more.
const SHUTDOWN_DEADLINE_MS = 12_000;
const RESTART_DELAY_MS = 1_000;

/**
 * The primary of API_WORKERS > 1: forks `count` workers that share the listening socket, replaces
 * one that dies after it was serving, and forwards SIGTERM/SIGINT so each drains on its own. A
 * worker that dies before listening means the configuration cannot work: the primary exits 1
 * instead of restarting it in a loop, so the orchestrator sees the failure.
 */
export function superviseWorkers(count: number, logger: Logger): void {
  const serving = new WeakSet<Worker>();
  let stopping = false;
  let failed = false;

  const fork = () => {
    const worker = cluster.fork();
    worker.once('listening', () => serving.add(worker));
  };

  cluster.on('exit', (worker, code, signal) => {
    if (code !== 0) failed = true;
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(failed ? 1 : 0);
      return;
    }
    if (!serving.has(worker)) {
      logger.error('api worker exited before listening; stopping', { code, signal });
      for (const other of Object.values(cluster.workers ?? {})) other?.process.kill('SIGTERM');
      stopping = true;
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(1);
      return;
    }
    logger.error('api worker exited; starting another', { code, signal });
    setTimeout(() => {
      if (!stopping) fork();
    }, RESTART_DELAY_MS);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      stopping = true;
      logger.info('shutting down workers', { signal });
      // Between a crash and its replacement there may be none left to wait for.
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(failed ? 1 : 0);
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
      setTimeout(() => {
        logger.error('workers did not stop in time; exiting anyway');
        process.exit(1);
      }, SHUTDOWN_DEADLINE_MS).unref();
    });
  }

  // A scrape reaches one worker, which asks here for the totals of all of them.
  serveClusterMetrics();
  for (let index = 0; index < count; index += 1) fork();
  logger.info('api workers started', { workers: count });
}
