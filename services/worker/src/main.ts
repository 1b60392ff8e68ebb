import { parseEnv } from '@marquee/config';
import { onShutdownSignal } from '@marquee/lifecycle';
import { createLogger } from '@marquee/logger';
import { startOpsServerOrReport } from '@marquee/metrics';
import { workerEnvSchema } from './env.schema.ts';
import { createWorkerRuntime } from './worker.runtime.ts';

const env = parseEnv(workerEnvSchema);
const logger = createLogger({ service: 'worker', level: env.LOG_LEVEL });
const runtime = createWorkerRuntime(env, { logger });
const worker = runtime.createWorker();
// Deliveries run beside ingestion, on their own queue and slots (docs/webhooks.md).
runtime.createWebhookWorker();

// A port clash must not stop ingestion.
const ops = await startOpsServerOrReport(
  { registry: runtime.registry, port: env.METRICS_PORT, checks: runtime.checks },
  (error) =>
    logger.error('metrics server cannot listen', { port: env.METRICS_PORT, error: String(error) }),
);

onShutdownSignal(logger, async () => {
  await runtime.close();
  await ops?.close();
});

logger.info('worker started', {
  concurrency: env.WORKER_CONCURRENCY,
  prefix: env.QUEUE_PREFIX,
  metricsPort: ops?.port,
});
worker.run().catch((error: unknown) => {
  logger.error('worker stopped unexpectedly', { error: String(error) });
  process.exit(1);
});
