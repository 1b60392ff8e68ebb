import type { ChangeKind, ChangePosition } from './change.repository.ts';
import { pgArray } from './pg-text.encoder.ts';
import type { Db } from './prisma.client.ts';

export interface WebhookEndpoint {
  id: string;
  url: string;
  kinds: ChangeKind[];
  provider: string | null;
  createdAt: Date;
}

/** An endpoint as operators see it: its health from its messages. */
export interface WebhookEndpointHealth extends WebhookEndpoint {
  pending: number;
  delivered: number;
  failed: number;
  lastDeliveredAt: Date | null;
  lastError: string | null;
}

/** One change to fan out: its place in the feed, and the body every endpoint gets. */
export interface WebhookChange extends ChangePosition {
  kind: ChangeKind;
  /** The event's provider; null when the event is gone (a provider filter never matches it). */
  provider: string | null;
  changedAt: Date;
  payload: string;
}

export interface WebhookDelivery {
  id: string;
  seq: bigint;
  payload: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  changedAt: Date;
  endpoint: { id: string; url: string; secret: string };
}

export interface FailedWebhookMessage {
  id: string;
  endpointId: string;
  url: string;
  attempts: number;
  lastError: string | null;
  finishedAt: Date | null;
}

/** A message that is next for its endpoint, and the delivery job it needs. */
export interface WebhookHead {
  id: string;
  jobId: string;
}

/**
 * Webhook endpoints and their messages (an outbox: one row per change per endpoint, sent in
 * `seq` order, one at a time per endpoint) and the dispatcher's place in the change feed.
 */
export class WebhookRepository {
  constructor(private readonly db: Db) {}

  async add(endpoint: {
    url: string;
    secret: string;
    kinds: readonly ChangeKind[];
    provider: string | null;
  }): Promise<WebhookEndpoint> {
    const row = await this.db.webhookEndpoint.create({
      data: { ...endpoint, kinds: [...endpoint.kinds] },
    });
    return toEndpoint(row);
  }

  async find(id: string): Promise<(WebhookEndpoint & { secret: string }) | null> {
    const row = await this.db.webhookEndpoint.findUnique({ where: { id } });
    return row && { ...toEndpoint(row), secret: row.secret };
  }

  /** Every endpoint with its health, oldest first. */
  async list(): Promise<WebhookEndpointHealth[]> {
    const rows = await this.db.$queryRaw<
      {
        id: string;
        url: string;
        kinds: string[];
        provider: string | null;
        created_at: Date;
        pending: number;
        delivered: number;
        failed: number;
        last_delivered_at: Date | null;
        last_error: string | null;
      }[]
    >`
      SELECT e.id::text, e.url, e.kinds, e.provider, e.created_at,
        count(*) FILTER (WHERE m.status = 'pending')::int AS pending,
        count(*) FILTER (WHERE m.status = 'delivered')::int AS delivered,
        count(*) FILTER (WHERE m.status = 'failed')::int AS failed,
        max(m.finished_at) FILTER (WHERE m.status = 'delivered') AS last_delivered_at,
        (array_agg(m.last_error ORDER BY m.seq DESC) FILTER (WHERE m.last_error IS NOT NULL))[1]
          AS last_error
      FROM webhook_endpoints e LEFT JOIN webhook_messages m ON m.endpoint_id = e.id
      GROUP BY e.id ORDER BY e.created_at, e.id`;
    return rows.map((row) => ({
      ...toEndpoint({ ...row, createdAt: row.created_at }),
      pending: row.pending,
      delivered: row.delivered,
      failed: row.failed,
      lastDeliveredAt: row.last_delivered_at,
      lastError: row.last_error,
    }));
  }

  /** Removes an endpoint and its messages: nothing more is sent to it. */
  async remove(id: string): Promise<boolean> {
    const { count } = await this.db.webhookEndpoint.deleteMany({ where: { id } });
    return count === 1;
  }

  /** Where the dispatcher resumes; undefined before its first pass. */
  async dispatchCursor(): Promise<ChangePosition | undefined> {
    const rows = await this.db.$queryRaw<{ xid: string; position: bigint }[]>`
      SELECT after_xid::text AS xid, after_position AS position FROM webhook_dispatch WHERE id = 1`;
    return rows[0];
  }

  /**
   * One message per change per endpoint that wants it (its kinds, its provider, created before
   * the change), and the dispatcher's new place, in one transaction: each change is fanned out
   * exactly once. A message's id (the `webhook-id`) is a hash of endpoint and change, so a
   * repeated fan-out makes no twin. Returns the messages made.
   */
  async fanOut(changes: readonly WebhookChange[], cursor: ChangePosition): Promise<number> {
    const [inserted] = await this.db.$transaction([
      this.db.$executeRaw`
        INSERT INTO webhook_messages (id, endpoint_id, payload, changed_at)
        SELECT 'msg_' || substr(replace(replace(encode(sha256(convert_to(
            e.id::text || ':' || c.xid || ':' || c.position, 'UTF8')), 'base64'), '+', '-'),
            '/', '_'), 1, 26),
          e.id, c.payload, c.changed_at
        FROM unnest(${pgArray(changes.map((c) => c.xid))}::text[],
          ${pgArray(changes.map((c) => String(c.position)))}::text[],
          ${pgArray(changes.map((c) => c.kind))}::text[],
          ${pgArray(changes.map((c) => c.provider))}::text[],
          ${pgArray(changes.map((c) => c.changedAt.toISOString()))}::timestamptz[],
          ${pgArray(changes.map((c) => c.payload))}::text[])
          WITH ORDINALITY AS c(xid, position, kind, provider, changed_at, payload, ord)
        JOIN webhook_endpoints e ON c.kind = ANY(e.kinds)
          AND (e.provider IS NULL OR e.provider = c.provider) AND e.created_at <= c.changed_at
        ORDER BY c.ord, e.id
        ON CONFLICT (id) DO NOTHING`,
      this.db.$executeRaw`
        INSERT INTO webhook_dispatch (id, after_xid, after_position)
        VALUES (1, ${cursor.xid}::xid8, ${cursor.position}::bigint)
        ON CONFLICT (id) DO UPDATE SET after_xid = EXCLUDED.after_xid,
          after_position = EXCLUDED.after_position`,
    ]);
    return inserted;
  }

  /** The next pending message of every endpoint (or of one), with its delivery job's id. */
  async heads(endpointId?: string): Promise<WebhookHead[]> {
    const rows = await this.db.$queryRaw<{ id: string; generation: number }[]>`
      SELECT DISTINCT ON (endpoint_id) id, generation FROM webhook_messages
      WHERE status = 'pending' AND (${endpointId ?? null}::uuid IS NULL OR endpoint_id = ${endpointId ?? null}::uuid)
      ORDER BY endpoint_id, seq`;
    return rows.map((row) => ({ id: row.id, jobId: `${row.id}.${row.generation}` }));
  }

  /** A message with its endpoint; null once the endpoint (and so the message) was removed. */
  async delivery(id: string): Promise<WebhookDelivery | null> {
    const row = await this.db.webhookMessage.findUnique({
      where: { id },
      include: { endpoint: { select: { id: true, url: true, secret: true } } },
    });
    if (!row) return null;
    return {
      id: row.id,
      seq: row.seq,
      payload: row.payload,
      status: row.status as WebhookDelivery['status'],
      attempts: row.attempts,
      changedAt: row.changedAt,
      endpoint: row.endpoint,
    };
  }

  /** True when an earlier message of the endpoint is still pending (it goes first). */
  async hasEarlierPending(delivery: WebhookDelivery): Promise<boolean> {
    const count = await this.db.webhookMessage.count({
      where: { endpointId: delivery.endpoint.id, status: 'pending', seq: { lt: delivery.seq } },
    });
    return count > 0;
  }

  /** Whether any endpoint exists (without one the dispatcher only moves its cursor). */
  async anyEndpoint(): Promise<boolean> {
    return (await this.db.webhookEndpoint.count({ take: 1 })) > 0;
  }

  /**
   * A message whose delivery found an earlier one pending (put back in line by `retry`): its job
   * ends, and its next job, once it is first in line again, needs a new id.
   */
  async requeue(id: string): Promise<void> {
    await this.db.webhookMessage.updateMany({
      where: { id, status: 'pending' },
      data: { generation: { increment: 1 } },
    });
  }

  /** Records an attempt: delivered, failed for good (dead letter), or to be retried. */
  async recordAttempt(
    id: string,
    outcome: 'delivered' | 'failed' | 'retry',
    error?: string,
  ): Promise<void> {
    await this.db.webhookMessage.updateMany({
      where: { id, status: 'pending' },
      data: {
        attempts: { increment: 1 },
        lastError: error ?? null,
        ...(outcome === 'retry' ? {} : { status: outcome, finishedAt: new Date() }),
      },
    });
  }

  /** Dead letters, newest first (of one endpoint, or of all). */
  async failed(endpointId?: string): Promise<FailedWebhookMessage[]> {
    const rows = await this.db.webhookMessage.findMany({
      where: { status: 'failed', ...(endpointId ? { endpointId } : {}) },
      include: { endpoint: { select: { url: true } } },
      orderBy: { seq: 'desc' },
      take: 1_000,
    });
    return rows.map((row) => ({
      id: row.id,
      endpointId: row.endpointId,
      url: row.endpoint.url,
      attempts: row.attempts,
      lastError: row.lastError,
      finishedAt: row.finishedAt,
    }));
  }

  /**
   * Puts dead letters back in line (the given ones, or every one of an endpoint, or all): they
   * go before the endpoint's later messages, with fresh attempts. Returns how many.
   */
  async retry(selection: { ids?: readonly string[]; endpointId?: string }): Promise<number> {
    const { count } = await this.db.webhookMessage.updateMany({
      where: {
        status: 'failed',
        ...(selection.ids ? { id: { in: [...selection.ids] } } : {}),
        ...(selection.endpointId ? { endpointId: selection.endpointId } : {}),
      },
      data: { status: 'pending', attempts: 0, generation: { increment: 1 }, finishedAt: null },
    });
    return count;
  }

  /** Pending messages of all endpoints: the delivery backlog. */
  async backlog(): Promise<number> {
    return this.db.webhookMessage.count({ where: { status: 'pending' } });
  }
}

function toEndpoint(row: {
  id: string;
  url: string;
  kinds: string[];
  provider: string | null;
  createdAt: Date;
}): WebhookEndpoint {
  return {
    id: row.id,
    url: row.url,
    kinds: row.kinds as ChangeKind[],
    provider: row.provider,
    createdAt: row.createdAt,
  };
}
