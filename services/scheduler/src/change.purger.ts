import type { ChangeRepository } from '@marquee/db';
import type { Logger } from '@marquee/logger';

export interface ChangePurgeOptions {
  changes: ChangeRepository;
  retentionDays: number;
  /** Only the scheduler leader purges (two purges would be harmless, only wasted). */
  isLeader: () => boolean;
  logger: Logger;
  intervalMs?: number;
}

/**
 * Deletes change-feed rows older than the retention, set-based and chunked
 * (ChangeRepository.purge), every `intervalMs` (hourly by default). Passes never overlap.
 */
export function startChangePurge({
  changes,
  retentionDays,
  isLeader,
  logger,
  intervalMs = 3_600_000,
}: ChangePurgeOptions): { stop(): Promise<void> } {
  let running: Promise<void> = Promise.resolve();
  const pass = async () => {
    if (!isLeader()) return;
    try {
      const deleted = await changes.purge(retentionDays);
      if (deleted > 0) logger.info('change feed purged', { deleted, retentionDays });
    } catch (error) {
      // The next pass tries again: the feed only keeps a little longer.
      logger.error('change feed purge failed', { error: (error as Error).message });
    }
  };
  const timer = setInterval(() => {
    running = running.then(pass);
  }, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
