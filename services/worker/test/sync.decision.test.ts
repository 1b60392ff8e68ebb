// The decide step: every rule on "unchanged", "shrunk" and "apply", as a table of cases.
import { describe, expect, it } from '@jest/globals';
import type { ProviderFetchState } from '@marquee/db';
import { decide, judgeShrink, mayTakeUnparsed, type PayloadFacts } from '../src/sync.decision.ts';

const HOUR = 3_600_000;
const policy = { lastSeenGranularityMs: HOUR, shrinkGuardRatio: 0.5 };
const now = new Date('2030-01-01T12:00:00Z');
const minutesAgo = (minutes: number) => new Date(now.getTime() - minutes * 60_000);

function applied(overrides: Partial<ProviderFetchState> = {}): ProviderFetchState {
  return {
    providerId: '00000000-0000-4000-8000-000000000001',
    etag: '"v1"',
    lastModified: null,
    contentHash: 'abc',
    parsedCount: 10,
    seenMarkedAt: minutesAgo(10),
    updatedAt: minutesAgo(10),
    ...overrides,
  };
}

const facts = (overrides: Partial<PayloadFacts> = {}): PayloadFacts => ({
  form: 'document',
  resumed: false,
  notModified: false,
  contentHash: 'abc',
  ...overrides,
});

describe('mayTakeUnparsed (whether the conditional GET is sent)', () => {
  it.each([
    ['a document marked seen 10 minutes ago', 'document', applied(), true],
    [
      'a document marked seen 29 minutes ago',
      'document',
      applied({ seenMarkedAt: minutesAgo(29) }),
      true,
    ],
    [
      'a document marked seen 30 minutes ago (half the granularity)',
      'document',
      applied({ seenMarkedAt: minutesAgo(30) }),
      false,
    ],
    [
      'a mark in the future (a skewed clock)',
      'document',
      applied({ seenMarkedAt: minutesAgo(-5) }),
      false,
    ],
    ['pages, however fresh the mark', 'pages', applied(), false],
    ['no applied payload', 'document', null, false],
    ['a forgotten payload (no hash)', 'document', applied({ contentHash: null }), false],
    ['no mark', 'document', applied({ seenMarkedAt: null }), false],
  ] as const)('%s → %s', (_label, form, state, expected) => {
    expect(mayTakeUnparsed(form, state, now, policy)).toBe(expected);
  });
});

describe('decide', () => {
  it.each([
    [
      '304 to the conditional GET',
      facts({ notModified: true }),
      applied(),
      { action: 'skip', via: 'not-modified' },
    ],
    ['same bytes, fresh mark', facts(), applied(), { action: 'skip', via: 'same-content' }],
    [
      'same bytes, stale mark: parsed to mark its keys seen',
      facts(),
      applied({ seenMarkedAt: minutesAgo(45) }),
      { action: 'mark-seen' },
    ],
    [
      'same pages: parsed already, marked seen',
      facts({ form: 'pages' }),
      applied(),
      { action: 'mark-seen' },
    ],
    ['different bytes', facts({ contentHash: 'def' }), applied(), { action: 'write' }],
    ['the first payload', facts(), null, { action: 'write' }],
    [
      'a payload forgotten before a write',
      facts(),
      applied({ contentHash: null }),
      { action: 'write' },
    ],
  ] as const)('%s → %j', (_label, payload, state, expected) => {
    expect(decide(payload, state, now, policy)).toEqual(expected);
  });
});

describe('judgeShrink', () => {
  it.each([
    ['no reference', 3, null, 'applied'],
    ['a reference of 0', 0, applied({ parsedCount: 0 }), 'applied'],
    ['nothing where there were 10', 0, applied(), 'empty'],
    ['4 of 10 (lost more than half)', 4, applied(), 'shrunk'],
    ['5 of 10 (lost exactly half)', 5, applied(), 'applied'],
    ['more than before', 12, applied(), 'applied'],
  ] as const)('%s → %s', (_label, count, state, expected) => {
    expect(judgeShrink(count, state, policy)).toBe(expected);
  });

  it('ratio 0 disables the shrunk verdict, not the empty one', () => {
    const off = { ...policy, shrinkGuardRatio: 0 };
    expect(judgeShrink(1, applied(), off)).toBe('applied');
    expect(judgeShrink(0, applied(), off)).toBe('empty');
  });
});
