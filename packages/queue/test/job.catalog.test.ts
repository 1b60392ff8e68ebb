// The job catalog's progress: what a worker reports is what a reader (the CLI) accepts.
import { describe, expect, it } from '@jest/globals';
import { readProgress } from '../src/index.ts';

describe('readProgress', () => {
  it('reads a sync progress the worker sends', () => {
    const progress = { stage: 'writing', pages: 3, fetched: 6_000, written: 4_000 };
    expect(readProgress('provider.sync', progress)).toEqual(progress);
  });

  it.each([
    ['an older release’s shape', { stage: 'writing', parsed: 2, rejected: 1 }],
    ['an unknown stage', { stage: 'done', pages: 0, fetched: 0, written: 0 }],
    ['a negative count', { stage: 'fetching', pages: -1, fetched: 0, written: 0 }],
    ['a number', 42],
  ])('is undefined for %s', (_label, data) => {
    expect(readProgress('provider.sync', data)).toBeUndefined();
  });
});
