import type { Redis } from 'ioredis';
import { SearchCache } from './search.cache.ts';

/**
 * Writers that changed the catalog at the same time (syncs, provider changes) share one cache
 * version bump: a call while a bump is in flight waits for the next bump, which starts once that
 * one settles and serves every call that arrived meanwhile. Each caller's promise settles with a
 * bump that began after its call, so the API still learns of every write after it committed; a
 * failed bump fails every caller that shared it (a sync's job is retried).
 */
export function coalesceBumps(bump: () => Promise<unknown>): () => Promise<void> {
  let running: Promise<void> | undefined;
  let queued: Promise<void> | undefined;
  const start = (): Promise<void> => {
    const current = bump().then(() => undefined);
    running = current;
    const clear = () => {
      if (running === current) running = undefined;
    };
    current.then(clear, clear);
    return current;
  };
  return () => {
    if (!running) return start();
    queued ??= running
      .catch(() => undefined)
      .then(() => {
        queued = undefined;
        return start();
      });
    return queued;
  };
}

/**
 * The bump of the API cache's catalog version under `prefix`, shared as coalesceBumps says: what
 * a writer that changed the catalog calls once its change is committed.
 */
export function catalogVersionBump(redis: Redis, prefix: string): () => Promise<void> {
  const cache = new SearchCache({ redis, prefix, ttlSeconds: 0 });
  return coalesceBumps(() => cache.bumpVersion());
}
