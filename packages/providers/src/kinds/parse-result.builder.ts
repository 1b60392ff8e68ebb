import type { EventRecord } from '@marquee/event-model';
import { REJECT_SAMPLE_LIMIT, type ParseResult, type RejectSample } from './provider-kind.ts';

/** Accumulates a ParseResult while enforcing its invariants (unique keys, exact counts, capped samples). */
export class ParseResultBuilder {
  private fetched = 0;
  private rejected = 0;
  private readonly rejects: RejectSample[] = [];
  private warned = 0;
  private readonly warnings: RejectSample[] = [];
  private readonly events = new Map<string, EventRecord>();

  /** Counts one item of the payload, then accepts its event or records why it was rejected. */
  add(
    outcome: { event: EventRecord; warnings?: readonly string[] } | { key: string; reason: string },
  ): void {
    this.fetched += 1;
    if (!('event' in outcome)) {
      this.reject(outcome.key, outcome.reason);
      return;
    }
    this.accept(outcome.event);
    for (const reason of outcome.warnings ?? []) this.warn(outcome.event.externalKey, reason);
  }

  private warn(key: string, reason: string): void {
    this.warned += 1;
    if (this.warnings.length < REJECT_SAMPLE_LIMIT) this.warnings.push({ key, reason });
  }

  private accept(event: EventRecord): void {
    if (this.events.has(event.externalKey)) {
      this.reject(event.externalKey, 'duplicate key: replaced by a later item with the same key');
      // Re-inserting moves the key to the position of the item that wins.
      this.events.delete(event.externalKey);
    }
    this.events.set(event.externalKey, event);
  }

  private reject(key: string, reason: string): void {
    this.rejected += 1;
    if (this.rejects.length < REJECT_SAMPLE_LIMIT) this.rejects.push({ key, reason });
  }

  build(): ParseResult {
    return {
      fetched: this.fetched,
      events: [...this.events.values()],
      rejects: this.rejects,
      rejected: this.rejected,
      ...(this.warned > 0 ? { warnings: this.warnings, warned: this.warned } : {}),
    };
  }
}
