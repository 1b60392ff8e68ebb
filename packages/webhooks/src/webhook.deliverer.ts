import { UnrecoverableError } from 'bullmq';
import type { WebhookDelivery, WebhookRepository } from '@marquee/db';
import { AddressRefusedError, postGuarded, type AddressPolicy } from '@marquee/fetch';
import type { DeliveryJob } from '@marquee/queue';
import { signedHeaders } from './webhook.signer.ts';

/** What a delivery job did; `sent`/`failed` attempts are measured, the others are no-ops. */
export type DeliveryOutcome = 'sent' | 'retried' | 'failed' | 'gone' | 'later';

export interface DelivererOptions {
  webhooks: WebhookRepository;
  /** Enqueues the endpoint's next message once this one is done (WebhookDispatcher). */
  enqueueNext: (endpointId: string) => Promise<void>;
  addressPolicy: AddressPolicy;
  timeoutMs: number;
  /** Told of every attempt: its outcome and, when sent, seconds from the change to now. */
  observe?: (outcome: DeliveryOutcome, latencySeconds?: number) => void;
}

/** Why an attempt failed, or undefined when the endpoint took it (2xx). */
async function attempt(delivery: WebhookDelivery, options: DelivererOptions) {
  try {
    const headers = signedHeaders(delivery.endpoint.secret, delivery.id, delivery.payload);
    const answer = await postGuarded(delivery.endpoint.url, delivery.payload, {
      headers,
      timeoutMs: options.timeoutMs,
      addressPolicy: options.addressPolicy,
    });
    if (answer.status >= 200 && answer.status < 300) return undefined;
    return { reason: `HTTP ${answer.status}: ${answer.excerpt}`, permanent: false };
  } catch (error) {
    // A refused address stays refused: no retry can succeed.
    const permanent = error instanceof AddressRefusedError;
    return { reason: (error as Error).message, permanent };
  }
}

/**
 * Processes one delivery job: sends the message, signed, if it is still pending and first in
 * line for its endpoint. A failed attempt is recorded and thrown, so BullMQ retries it with
 * exponential backoff; the last one makes it a dead letter (`webhooks failed`). Either way the
 * endpoint's next message is enqueued once this one is done: one at a time, in order.
 */
export async function deliverMessage(
  job: DeliveryJob,
  options: DelivererOptions,
): Promise<DeliveryOutcome> {
  const { webhooks } = options;
  const delivery = await webhooks.delivery(job.data.messageId);
  // Delivered, dead-lettered, or its endpoint removed: nothing to send.
  if (delivery?.status !== 'pending') return 'gone';
  if (await webhooks.hasEarlierPending(delivery)) {
    await webhooks.requeue(delivery.id);
    return 'later';
  }
  const failure = await attempt(delivery, options);
  if (!failure) {
    await webhooks.recordAttempt(delivery.id, 'delivered');
    options.observe?.('sent', (Date.now() - delivery.changedAt.getTime()) / 1000);
    await options.enqueueNext(delivery.endpoint.id);
    return 'sent';
  }
  const last = failure.permanent || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  await webhooks.recordAttempt(delivery.id, last ? 'failed' : 'retry', failure.reason);
  options.observe?.(last ? 'failed' : 'retried');
  if (last) await options.enqueueNext(delivery.endpoint.id);
  const error = `webhook ${delivery.id} to ${delivery.endpoint.url}: ${failure.reason}`;
  throw failure.permanent ? new UnrecoverableError(error) : new Error(error);
}
