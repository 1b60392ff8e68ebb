import type { Logger } from '@marquee/logger';

export interface ShutdownOptions {
  /**
   * Longest `close` may take: past it the process logs and exits 1 whatever is still open (an
   * orchestrator's grace period ends in SIGKILL; exiting first leaves a log line behind). Without
   * it, shutdown waits for `close` as long as it takes.
   */
  deadlineMs?: number;
}

/**
 * Runs `close` once on the first SIGTERM or SIGINT, then exits 0, or 1 when closing failed or
 * outran `deadlineMs`. Services put their drain order in `close`. While closing, the other signal
 * is ignored; the same signal again meets Node's default action and ends the process at once (a
 * second Ctrl-C is how a person says "now").
 */
export function onShutdownSignal(
  logger: Logger,
  close: () => Promise<void>,
  options: ShutdownOptions = {},
): void {
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    if (options.deadlineMs !== undefined) {
      setTimeout(() => {
        logger.error('shutdown deadline passed; exiting anyway');
        process.exit(1);
      }, options.deadlineMs).unref();
    }
    close().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error('shutdown failed', { error: String(error) });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}
