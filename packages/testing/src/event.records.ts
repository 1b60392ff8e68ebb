import type { EventRecord } from '@marquee/event-model';

/** An event as a parser emits it, with only the required fields; `overrides` set what a test is about. */
export function eventRecord(overrides: Partial<EventRecord> = {}): EventRecord {
  return {
    externalKey: 'k1',
    title: 'A show',
    startsAt: new Date('2026-06-30T21:00:00Z'),
    endsAt: null,
    timezone: 'UTC',
    minPrice: null,
    maxPrice: null,
    currency: null,
    online: true,
    ...overrides,
  };
}
