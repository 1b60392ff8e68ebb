import type { Redis } from 'ioredis';

export interface CatalogVersionTrackerOptions {
  /** Reads the version key. */
  redis: Redis;
  /**
   * A connection of its own, used only to SUBSCRIBE (a subscribed connection can run nothing
   * else). Created to retry forever with an offline queue, so it subscribes once Redis is up
   * and ioredis resubscribes after every reconnect.
   */
  subscriber: Redis;
  versionKey: string;
  channel: string;
  /** How long a known version is used without reading it again. */
  maxAgeMs: number;
}

/**
 * The catalog version, kept in this process so a cached request costs no Redis read for it.
 *
 * Staleness bound: a bump is seen within the pub/sub delivery time (well under a millisecond on
 * a LAN) while the subscription is up, and in every case within `maxAgeMs` plus one Redis round
 * trip, because a version learned more than `maxAgeMs` ago (by a read or a message) is read again
 * before use. A message lost while the subscription was down therefore costs at most `maxAgeMs`
 * of staleness, and every reconnect of the subscriber forces a fresh read.
 */
export class CatalogVersionTracker {
  private value: string | undefined;
  private learnedAt = 0;
  /** Bumped by every message: a read started before one must not overwrite what it said. */
  private epoch = 0;
  private reading: Promise<string> | undefined;

  constructor(private readonly options: CatalogVersionTrackerOptions) {
    const { subscriber, channel } = options;
    subscriber.on('message', (from: string, message: string) => {
      if (from === channel) this.learn(message);
    });
    // Messages published while the subscriber was away are lost: read afresh.
    subscriber.on('ready', () => this.forget());
    subscriber.on('close', () => this.forget());
    // A failed SUBSCRIBE leaves the `maxAgeMs` re-read in charge; the connection's own `error`
    // listener (the owner's) reports why.
    subscriber.subscribe(channel).catch(() => this.forget());
  }

  /** The current version if it is known and fresh; never reads. */
  known(): string | undefined {
    return this.value !== undefined && Date.now() - this.learnedAt < this.options.maxAgeMs
      ? this.value
      : undefined;
  }

  /** The current version (rejects when Redis cannot be read and no fresh version is known). */
  current(): Promise<string> | string {
    const known = this.known();
    if (known !== undefined) return known;
    this.reading ??= this.read().finally(() => (this.reading = undefined));
    return this.reading;
  }

  private async read(): Promise<string> {
    const epoch = this.epoch;
    const startedAt = Date.now();
    const version = (await this.options.redis.get(this.options.versionKey)) ?? '0';
    // A message that arrived meanwhile is at least as new as this reply.
    if (epoch !== this.epoch) return this.value ?? version;
    this.value = version;
    this.learnedAt = startedAt;
    return version;
  }

  /**
   * A version this process bumped to itself (INCR's reply): used at once rather than when its
   * own message comes back, so the process that invalidates never answers from the old one.
   */
  bumpedTo(version: string): void {
    if (this.value === undefined || Number(version) > Number(this.value)) this.learn(version);
  }

  private learn(version: string): void {
    this.epoch += 1;
    this.value = version;
    this.learnedAt = Date.now();
  }

  private forget(): void {
    this.learnedAt = 0;
  }
}
