import type { Redis } from 'ioredis';

// Renew or release only a lease we still hold (compare-and-set on the owner token).
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * A Redis lease so that of several scheduler instances exactly one writes Job Schedulers
 * (concurrent upserts of the same schedulers are a known source of duplicates in BullMQ).
 */
export class LeaderLease {
  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly owner: string,
    private readonly ttlMs: number,
  ) {}

  /** True when this instance holds the lease after the call. */
  async acquireOrRenew(): Promise<boolean> {
    const renewed = (await this.redis.eval(
      RENEW,
      1,
      this.key,
      this.owner,
      String(this.ttlMs),
    )) as number;
    if (renewed === 1) return true;
    return (await this.redis.set(this.key, this.owner, 'PX', this.ttlMs, 'NX')) === 'OK';
  }

  async release(): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.key, this.owner);
  }
}
