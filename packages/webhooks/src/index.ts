export { newWebhookSecret, signedHeaders } from './webhook.signer.ts';
export {
  createWebhookDispatcher,
  WebhookDispatcher,
  type WebhookDispatcherOptions,
} from './webhook.dispatcher.ts';
export {
  deliverMessage,
  type DeliveryOutcome,
  type DelivererOptions,
} from './webhook.deliverer.ts';
export { createWebhookWorker, type WebhookWorkerOptions } from './webhook.worker.ts';
export { registerBacklogMetric, registerDeliveryMetrics } from './webhook.metrics.ts';
