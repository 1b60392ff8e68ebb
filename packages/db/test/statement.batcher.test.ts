// Group commit's batching rules, on a recording `write`: who shares a batch, when a small batch
// waits for more, and that one bad item fails only its own caller.
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { StatementBatcher } from '../src/statement.batcher.ts';

let batches: number[][];
const record = (items: number[]) => {
  batches.push(items);
  if (items.includes(-1)) return Promise.reject(new Error('bad item'));
  return Promise.resolve(items.map((item) => item * 10));
};

beforeEach(() => {
  batches = [];
  jest.useFakeTimers();
});
afterEach(() => {
  jest.useRealTimers();
});

describe('StatementBatcher', () => {
  it('a small batch waits lingerMs for more; items handed over meanwhile join it', async () => {
    const batcher = new StatementBatcher(record, { fill: 8, lingerMs: 2 });
    const first = batcher.submit(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(batches).toEqual([]);
    const second = batcher.submit(2);
    await jest.advanceTimersByTimeAsync(2);
    expect(await Promise.all([first, second])).toEqual([10, 20]);
    expect(batches).toEqual([[1, 2]]);
  });

  it('a batch of `fill` items is written without waiting', async () => {
    const batcher = new StatementBatcher(record, { fill: 3, lingerMs: 1_000 });
    const results = Promise.all([1, 2, 3].map((item) => batcher.submit(item)));
    await jest.advanceTimersByTimeAsync(0);
    expect(batches).toEqual([[1, 2, 3]]);
    expect(await results).toEqual([10, 20, 30]);
  });

  it('items handed over while a batch is written form the next one', async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const batcher = new StatementBatcher(
      async (items: number[]) => {
        if (batches.length === 0) await held;
        return record(items);
      },
      { fill: 1, lingerMs: 0 },
    );
    const first = batcher.submit(1);
    await jest.advanceTimersByTimeAsync(0);
    const later = [batcher.submit(2), batcher.submit(3)];
    release();
    await jest.advanceTimersByTimeAsync(0);
    expect(await Promise.all([first, ...later])).toEqual([10, 20, 30]);
    expect(batches).toEqual([[1], [2, 3]]);
  });

  it('a failed batch is written again item by item: the bad item fails alone', async () => {
    const batcher = new StatementBatcher(record, { fill: 8, lingerMs: 2 });
    const outcomes = [1, -1, 2].map((item) =>
      batcher.submit(item).then(
        (value) => value,
        (error: unknown) => (error as Error).message,
      ),
    );
    await jest.advanceTimersByTimeAsync(2);
    expect(await Promise.all(outcomes)).toEqual([10, 'bad item', 20]);
    expect(batches).toEqual([[1, -1, 2], [1], [-1], [2]]);
  });
});
