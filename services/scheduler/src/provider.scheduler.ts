import type { ProviderRepository } from '@marquee/db';
import type { Logger } from '@marquee/logger';
import type { IngestQueue } from '@marquee/queue';
import type { LeaderLease } from './leader.lease.ts';
import { reconcileSchedules } from './schedule.reconciler.ts';

export interface ProviderSchedulerOptions {
  providers: ProviderRepository;
  queue: IngestQueue;
  lease: LeaderLease;
  logger: Logger;
  /** How often the lease is renewed and standby instances try to take over. */
  tickMs: number;
  /** Full reconcile at least this often even without change notifications. */
  reconcileIntervalMs: number;
}

/**
 * Keeps BullMQ Job Schedulers in line with the providers table. Only the lease holder writes;
 * it reconciles when it becomes leader, on every change notification and periodically.
 * Ticks never overlap.
 */
export class ProviderScheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private leader = false;
  private dirty = true;
  private lastReconcile = 0;
  private stopped = false;

  constructor(private readonly options: ProviderSchedulerOptions) {}

  get isLeader(): boolean {
    return this.leader;
  }

  start(): Promise<void> {
    this.timer = setInterval(() => void this.tick(), this.options.tickMs);
    return this.tick();
  }

  /** Called on a provider change notification. */
  providersChanged(): void {
    this.dirty = true;
    void this.tick();
  }

  tick(): Promise<void> {
    this.running = this.running.then(() => this.runTick());
    return this.running;
  }

  private async runTick(): Promise<void> {
    if (this.stopped) return;
    const { lease, logger } = this.options;
    try {
      const leader = await lease.acquireOrRenew();
      if (leader !== this.leader)
        logger.info(leader ? 'became scheduler leader' : 'lost scheduler leadership');
      const becameLeader = leader && !this.leader;
      this.leader = leader;
      if (!leader) return;
      const due = Date.now() - this.lastReconcile >= this.options.reconcileIntervalMs;
      if (!becameLeader && !this.dirty && !due) return;
      this.dirty = false;
      const result = await reconcileSchedules(this.options.providers, this.options.queue);
      this.lastReconcile = Date.now();
      if (result.upserted.length > 0 || result.removed.length > 0)
        logger.info('schedules reconciled', result);
    } catch (error) {
      // The next tick tries again; a failed pass leaves the schedules as they were.
      this.dirty = true;
      logger.error('reconcile failed', { error: (error as Error).message });
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
    if (this.leader) await this.options.lease.release().catch(() => undefined);
    this.leader = false;
  }
}
