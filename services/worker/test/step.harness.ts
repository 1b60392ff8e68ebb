// What the step tests share: a database and queue prefix of their own, the worker runtime built
// from them (its SyncDeps are the steps' collaborators), and real jobs to begin syncs with.
import { PassThrough } from 'node:stream';
import { Worker } from 'bullmq';
import { parseEnv } from '@marquee/config';
import type { Provider, ProviderRepository } from '@marquee/db';
import { createLogger, type Logger } from '@marquee/logger';
import { QUEUE_NAMES, type SyncJob } from '@marquee/queue';
import { startQueueStack, workerTestEnv, type QueueStack } from '@marquee/testing';
import { beginRun } from '../src/begin-run.step.ts';
import { workerEnvSchema } from '../src/env.schema.ts';
import { passThrough } from '../src/fetch.chain.ts';
import type { SyncContext } from '../src/sync.context.ts';
import { createWorkerRuntime, type WorkerRuntimeOverrides } from '../src/worker.runtime.ts';

/** A logger whose JSON lines a test reads. */
export function capturedLogger(): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  return {
    logger: createLogger({ service: 'step-test', level: 'info', stream }),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

export interface StepHarness extends QueueStack {
  runtime: ReturnType<typeof createWorkerRuntime>;
  addProvider(fields: Partial<Parameters<ProviderRepository['create']>[0]>): Promise<Provider>;
  /** Enqueues a sync of `provider` and takes it with a lock token, as a worker would. */
  takeJob(provider: Provider): Promise<{ job: SyncJob; token: string }>;
  /** Begins a sync of `provider`: beginRun on a real job, taken with its token unless `locked` is false. */
  begin(provider: Provider, locked?: boolean): Promise<SyncContext>;
  close(): Promise<void>;
}

/** The runtime has no breaker unless `overrides.links` sets one (a step test asks for it). */
export async function startStepHarness(
  label: string,
  env: NodeJS.ProcessEnv = {},
  overrides: WorkerRuntimeOverrides = {},
): Promise<StepHarness> {
  const base = await startQueueStack(label);
  const { database, db, redis, prefix, queue } = base;
  const pullerRedis = redis.duplicate();
  const puller = new Worker(QUEUE_NAMES.ingest, null, { connection: pullerRedis, prefix });
  const runtime = createWorkerRuntime(
    parseEnv(workerEnvSchema, workerTestEnv(database.url, prefix, env)),
    {
      logger: createLogger({ service: 'step-test', level: 'error' }),
      db,
      redis,
      ...overrides,
      links: { breaker: passThrough, ...overrides.links },
    },
  );
  let providers = 0;
  const harness: StepHarness = {
    ...base,
    runtime,
    addProvider: (fields) =>
      base.providers.create({
        name: `provider-${(providers += 1)}`,
        kind: 'fever-xml',
        url: 'http://feed.invalid/feed.xml',
        everySeconds: 3600,
        timezone: 'UTC',
        ...fields,
      }),
    async takeJob(provider) {
      await queue.enqueueSync({ providerId: provider.id, trigger: 'manual' });
      const token = `token-${Math.random()}`;
      const job = (await puller.getNextJob(token)) as SyncJob | undefined;
      if (!job) throw new Error('no job to take');
      return { job, token };
    },
    async begin(provider, locked = true) {
      const { job, token } = await harness.takeJob(provider);
      const start = await beginRun(runtime.deps, job, locked ? token : undefined);
      if (!('sync' in start)) throw new Error('the sync ended at beginRun');
      return start.sync;
    },
    async close() {
      await runtime.close();
      await puller.close();
      await pullerRedis.quit();
      await base.close();
    },
  };
  return harness;
}
