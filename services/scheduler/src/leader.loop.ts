import type { Logger } from '@marquee/logger';

export interface LeaderLoopOptions {
  /** What the log says failed. */
  name: string;
  intervalMs: number;
  /** Only the scheduler leader runs passes. */
  isLeader: () => boolean;
  logger: Logger;
  /** One pass; a failure is logged and the next pass tries again. */
  pass: () => Promise<void>;
}

/**
 * Runs `pass` every `intervalMs` on the leader; passes never overlap. Used for the change
 * feed's retention purge and the webhook dispatcher.
 */
export function startLeaderLoop(options: LeaderLoopOptions): { stop(): Promise<void> } {
  let running: Promise<void> = Promise.resolve();
  let busy = false;
  const pass = async () => {
    if (!options.isLeader()) return;
    try {
      await options.pass();
    } catch (error) {
      options.logger.error(`${options.name} failed`, { error: (error as Error).message });
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
