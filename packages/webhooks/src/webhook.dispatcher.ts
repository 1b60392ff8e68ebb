import {
  ChangeRepository,
  EventRepository,
  toEventDetail,
  WebhookRepository,
  type Change,
  type Db,
  type WebhookChange,
} from '@marquee/db';
import type { WebhookQueue } from '@marquee/queue';

export interface WebhookDispatcherOptions {
  changes: ChangeRepository;
  events: EventRepository;
  webhooks: WebhookRepository;
  queue: WebhookQueue;
  /** Changes read per pass. */
  batchSize?: number;
}

/**
 * The Standard Webhooks body of one change: `type` (`event.<kind>`), `timestamp` (when the
 * change was written) and `data` (the kind, the event id and the event as `/v1/events/:id`
 * answered it when the message was made; null once it left the catalog).
 */
function payloadOf(change: Change, event: ReturnType<typeof toEventDetail> | null): string {
  return JSON.stringify({
    type: `event.${change.kind}`,
    timestamp: change.changedAt.toISOString(),
    data: { kind: change.kind, event_id: change.eventId, event },
  });
}

/**
 * Turns the change feed into webhook messages: each pass reads the next readable changes after
 * its own cursor (kept in PostgreSQL), makes one message per change per endpoint that wants it
 * and moves the cursor in the same transaction, then enqueues the next message of every
 * endpoint. Run by one process (the scheduler's leader); passes must not overlap.
 */
export class WebhookDispatcher {
  private readonly batchSize: number;

  constructor(private readonly options: WebhookDispatcherOptions) {
    this.batchSize = options.batchSize ?? 500;
  }

  /** One pass; returns the messages made. */
  async pass(): Promise<number> {
    const { changes, webhooks } = this.options;
    const cursor = await webhooks.dispatchCursor();
    if (cursor === undefined || !(await webhooks.anyEndpoint())) {
      // No one to notify (or a first pass): history is not sent to endpoints added later.
      await webhooks.fanOut([], await changes.lastReadable());
      return 0;
    }
    const page = await changes.read(cursor, this.batchSize);
    const last = page.changes.at(-1);
    let made = 0;
    if (last) made = await webhooks.fanOut(await this.render(page.changes), last);
    await this.enqueueHeads();
    return made;
  }

  /** Enqueues the next message of every endpoint (a no-op for those whose job exists). */
  async enqueueHeads(endpointId?: string): Promise<void> {
    for (const head of await this.options.webhooks.heads(endpointId)) {
      await this.options.queue.enqueueDelivery(head);
    }
  }

  private async render(page: readonly Change[]): Promise<WebhookChange[]> {
    const found = await this.options.events.findManyById([...new Set(page.map((c) => c.eventId))]);
    return page.map((change) => {
      const event = found.get(change.eventId);
      return {
        xid: change.xid,
        position: change.position,
        kind: change.kind,
        provider: event?.provider ?? null,
        changedAt: change.changedAt,
        payload: payloadOf(change, event ? toEventDetail(event) : null),
      };
    });
  }
}

/** The dispatcher over one database's change feed, events and endpoints. */
export function createWebhookDispatcher(db: Db, queue: WebhookQueue): WebhookDispatcher {
  return new WebhookDispatcher({
    changes: new ChangeRepository(db),
    events: new EventRepository(db),
    webhooks: new WebhookRepository(db),
    queue,
  });
}
