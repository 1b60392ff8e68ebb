// The stack the failure tests run against, without a BullMQ worker: the test takes each job and
// runs the sync pipeline on it (JobRunner), so it sees exactly what the pipeline throws (what
// BullMQ acts on). Worker runtimes are built as main.ts builds them, on the stack's clients.
import { parseEnv } from '@marquee/config';
import { createLogger } from '@marquee/logger';
import { JobRunner, startQueueStack, workerTestEnv, type QueueStack } from '@marquee/testing';
import {
  createWorkerRuntime,
  workerEnvSchema,
  type WorkerRuntime,
  type WorkerRuntimeOverrides,
} from '@marquee/worker';

export interface JobRunnerStack extends QueueStack {
  runner: JobRunner;
  /** A worker runtime on workerTestEnv's variables and `env`; closed with the stack. */
  runtime(env?: NodeJS.ProcessEnv, overrides?: WorkerRuntimeOverrides): WorkerRuntime;
  /** Closes the runtimes and the runner, then what startQueueStack opened. */
  close(): Promise<void>;
}

export async function startJobRunnerStack(label: string): Promise<JobRunnerStack> {
  const logger = createLogger({ service: `${label}-test`, level: 'error' });
  const base = await startQueueStack(label);
  const { database, db, redis, prefix, queue } = base;
  const runner = new JobRunner(queue, redis, prefix);
  const runtimes: WorkerRuntime[] = [];
  return {
    ...base,
    runner,
    runtime(env = {}, overrides = {}) {
      const runtime = createWorkerRuntime(
        parseEnv(workerEnvSchema, workerTestEnv(database.url, prefix, env)),
        { logger, db, redis, ...overrides },
      );
      runtimes.push(runtime);
      return runtime;
    },
    async close() {
      await Promise.all(runtimes.map((runtime) => runtime.close()));
      await runner.close();
      await base.close();
    },
  };
}
