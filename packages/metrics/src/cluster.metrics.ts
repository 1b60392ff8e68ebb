import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

const REQUEST = 'marquee:cluster-metrics-request';
const RESPONSE = 'marquee:cluster-metrics-response';

/** Longer than prom-client's own 5 s wait for every worker, so its error is the one reported. */
const ANSWER_TIMEOUT_MS = 6_000;

interface MetricsRequest {
  type: typeof REQUEST;
  id: number;
}
interface MetricsResponse {
  type: typeof RESPONSE;
  id: number;
  text?: string;
  error?: string;
}

function isMessage<T extends { type: string }>(message: unknown, type: T['type']): message is T {
  return typeof message === 'object' && message !== null && (message as T).type === type;
}

/**
 * The primary of a node:cluster: answers a worker's request for `/metrics` with every worker's
 * registry aggregated by prom-client's AggregatorRegistry (counters and histograms summed, gauges
 * as each declares). The primary serves no port itself: a scrape reaches some worker, which asks
 * here, so one scrape sees the totals of all processes.
 */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: unknown) => {
    if (!isMessage<MetricsRequest>(message, REQUEST)) return;
    const reply = (answer: Omit<MetricsResponse, 'type' | 'id'>) => {
      if (worker.isConnected()) worker.send({ type: RESPONSE, id: message.id, ...answer });
    };
    aggregator.clusterMetrics().then(
      (text) => reply({ text }),
      (error: unknown) => reply({ error: String(error) }),
    );
  });
}

/**
 * A cluster worker's `/metrics` text: this process registers `registry` as the one prom-client
 * reports to the primary, and each call asks the primary for the aggregate of all workers.
 */
export function clusterMetricsText(registry: Registry): () => Promise<string> {
  if (!cluster.isWorker) throw new Error('clusterMetricsText: not a node:cluster worker');
  // Constructing one installs prom-client's listener that answers the primary from `registry`.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
  const pending = new Map<number, (answer: MetricsResponse) => void>();
  process.on('message', (message: unknown) => {
    if (isMessage<MetricsResponse>(message, RESPONSE)) pending.get(message.id)?.(message);
  });
  let next = 0;
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(
        () => settle({ type: RESPONSE, id, error: 'no answer' }),
        ANSWER_TIMEOUT_MS,
      );
      function settle(answer: MetricsResponse) {
        clearTimeout(timer);
        pending.delete(id);
        if (answer.text !== undefined) resolve(answer.text);
        else reject(new Error(`cluster metrics: ${answer.error ?? 'empty answer'}`));
      }
      pending.set(id, settle);
      process.send!({ type: REQUEST, id } satisfies MetricsRequest);
    });
}
