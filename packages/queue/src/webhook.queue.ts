import { Queue, type Job, type JobsOptions } from 'bullmq';
import { parsePayload, QUEUE_NAMES, type JobPayload } from './job.catalog.ts';
import type { QueueOptions } from './ingest.queue.ts';

export type DeliveryJob = Job<JobPayload<'webhook.deliver'>, unknown, 'webhook.deliver'>;

/** Attempts of one message and the first retry's delay (doubling after each failure). */
export interface DeliveryRetries {
  attempts: number;
  backoffMs: number;
}

/**
 * Producer side of the "webhooks" queue: one job per message, and only for the message next in
 * line of its endpoint (the dispatcher and each finished delivery enqueue the next), so an
 * endpoint has one delivery at a time and gets its messages in order.
 */
export class WebhookQueue {
  readonly queue: Queue;

  constructor(
    { connection, prefix }: QueueOptions,
    private readonly retries: DeliveryRetries,
  ) {
    this.queue = new Queue(QUEUE_NAMES.webhooks, { connection, prefix });
  }

  /**
   * Enqueues a message's delivery; a no-op while a job of that id exists. The id changes when
   * `webhooks retry` puts a dead letter back in line.
   */
  async enqueueDelivery(head: { id: string; jobId: string }): Promise<void> {
    const data = parsePayload('webhook.deliver', { messageId: head.id });
    const options: JobsOptions = {
      jobId: head.jobId,
      attempts: this.retries.attempts,
      backoff: { type: 'exponential', delay: this.retries.backoffMs, jitter: 0.2 },
      removeOnComplete: { age: 24 * 3600, count: 1_000 },
      removeOnFail: { age: 30 * 24 * 3600, count: 5_000 },
    };
    await this.queue.add('webhook.deliver', data, options);
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
