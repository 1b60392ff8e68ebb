import { describeDatabaseError } from '@marquee/db';
import { throttledLog, type Logger } from '@marquee/logger';

export interface LeaderLoopOptions {
  /** What the log says failed. */
  name: string;
  intervalMs: number;
  /** Only the scheduler leader runs passes. */
  isLeader: () => boolean;
  logger: Logger;
  /**
   * One pass; a failure is logged and the next pass tries again. Failures in a row (PostgreSQL
   * down, every pass failing) are logged once per 10 s, and the first pass that succeeds after
   * them says so.
   */
  pass: () => Promise<void>;
}

/**
 * Runs `pass` every `intervalMs` on the leader; passes never overlap. Used for the change
 * feed's retention purge and the webhook dispatcher.
 */
export function startLeaderLoop(options: LeaderLoopOptions): { stop(): Promise<void> } {
  let running: Promise<void> = Promise.resolve();
  let busy = false;
  const failed = throttledLog(options.logger, 'error', `${options.name} failed`);
  let failures = 0;
  const pass = async () => {
    if (!options.isLeader()) return;
    try {
      await options.pass();
      if (failures > 0) options.logger.info(`${options.name} recovered`, { failures });
      failures = 0;
    } catch (error) {
      failures += 1;
      // The passes read PostgreSQL: its cause, not Prisma's code frame.
      failed(describeDatabaseError(error) ?? error);
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => {
    // A pass slower than the interval is not queued behind itself.
    if (busy) return;
    busy = true;
    running = running.then(pass);
  }, options.intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
