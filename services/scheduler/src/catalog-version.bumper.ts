import { throttledLog, type Logger } from '@marquee/logger';

/**
 * What to do when `providers` changed: bump the API cache's catalog version. Removing a provider
 * removes its events, and no sync bumps for that, so cached answers would list them until their
 * TTL. The listener also calls it after each (re)connection, when a change may have gone unheard.
 * Changes at the same time share one bump (catalogVersionBump). On a `blocking` connection a bump
 * waits out a Redis outage; one that fails all the same is logged (throttled), cached answers
 * then age out by their TTL, and the next change bumps again.
 */
export function catalogVersionBumper(bump: () => Promise<void>, logger: Logger): () => void {
  const failed = throttledLog(logger, 'warn', 'catalog version not bumped after a provider change');
  return () => void bump().catch(failed);
}
