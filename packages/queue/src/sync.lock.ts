import type { Queue } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';

// Takes the lock when it is free, already ours, or held by the owner found stale (ARGV[3]).
const CLAIM = `
local owner = redis.call('get', KEYS[1])
if owner == false or owner == ARGV[1] or owner == ARGV[3] then
  redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return ARGV[1]
end
return owner`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** Job states in which the owning sync is still going on: running, or waiting for its next try. */
const PENDING = new Set(['active', 'waiting', 'prioritized', 'delayed', 'waiting-children']);
/**
 * A backstop only: a finished owner is found stale by its job's state at once. Longer than any
 * sync with its retries and provider-imposed waits.
 */
const LOCK_TTL_MS = 6 * 3_600_000;

/**
 * One sync at a time per provider: the id of the job whose sync owns the provider, in Redis
 * beside the queue (`<prefix>:ingest:sync-owner:<provider id>`). The owner keeps it through its
 * retries and Retry-After waits (its job is then delayed, not finished), so neither a scheduled
 * run nor a manual one overlaps it; it is released when the sync succeeds, and taken over once
 * the owner's job has failed for good or is gone.
 */
export class SyncLock {
  constructor(
    private readonly queue: Queue,
    private readonly redis: Redis | Cluster,
  ) {}

  /** Claims the provider for `jobId`; returns undefined when claimed, else the owner's job id. */
  async claim(providerId: string, jobId: string): Promise<string | undefined> {
    const owner = await this.eval(CLAIM, providerId, jobId, String(LOCK_TTL_MS), '');
    if (owner === jobId) return undefined;
    if (await this.isPending(owner)) return owner;
    const retaken = await this.eval(CLAIM, providerId, jobId, String(LOCK_TTL_MS), owner);
    return retaken === jobId ? undefined : retaken;
  }

  async release(providerId: string, jobId: string): Promise<void> {
    await this.eval(RELEASE, providerId, jobId);
  }

  /** The job id of the provider's sync still going on, if any (what `sync` joins). */
  async pendingOwner(providerId: string): Promise<string | undefined> {
    const owner = await this.redis.get(this.key(providerId));
    return owner !== null && (await this.isPending(owner)) ? owner : undefined;
  }

  private async isPending(jobId: string): Promise<boolean> {
    return PENDING.has(await this.queue.getJobState(jobId));
  }

  private key(providerId: string): string {
    return this.queue.toKey(`sync-owner:${providerId}`);
  }

  private async eval(script: string, providerId: string, ...args: string[]): Promise<string> {
    return String(await this.redis.eval(script, 1, this.key(providerId), ...args));
  }
}
