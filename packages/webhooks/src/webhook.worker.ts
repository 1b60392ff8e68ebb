import { Worker, type ConnectionOptions } from 'bullmq';
import { QUEUE_NAMES, type DeliveryJob } from '@marquee/queue';
import { deliverMessage, type DelivererOptions } from './webhook.deliverer.ts';

export interface WebhookWorkerOptions extends DelivererOptions {
  connection: ConnectionOptions;
  prefix: string;
  /** Deliveries in flight at once, all endpoints together (one per endpoint at most). */
  concurrency: number;
  onError: (error: Error) => void;
}

/**
 * The BullMQ worker of the "webhooks" queue. It shares nothing with ingestion but the process:
 * a slow endpoint holds one of its slots for at most the timeout, and only its own messages wait.
 */
export function createWebhookWorker(options: WebhookWorkerOptions): Worker {
  const worker = new Worker(
    QUEUE_NAMES.webhooks,
    (job) => deliverMessage(job as DeliveryJob, options),
    { connection: options.connection, prefix: options.prefix, concurrency: options.concurrency },
  );
  worker.on('error', options.onError);
  return worker;
}
