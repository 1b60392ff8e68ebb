export { SCHEDULER_DB_POOL_MAX, schedulerEnvSchema, type SchedulerEnv } from './env.schema.ts';
export { LeaderLease } from './leader.lease.ts';
export { listenForProviderChanges, PROVIDERS_CHANGED_CHANNEL } from './provider-change.listener.ts';
export { ProviderScheduler, type ProviderSchedulerOptions } from './provider.scheduler.ts';
export { reconcileSchedules, type ReconcileResult } from './schedule.reconciler.ts';
