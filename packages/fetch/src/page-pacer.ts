import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Spaces the page requests of one ingest at least `minIntervalMs` apart: a provider's request
 * rate limit, kept per sync (one sync of a provider runs at a time).
 */
export function createPagePacer(minIntervalMs: number): () => Promise<void> {
  let last = -Infinity;
  return async () => {
    const wait = last + minIntervalMs - performance.now();
    if (wait > 0) await sleep(wait);
    last = performance.now();
  };
}
