// The worker's payload budget (WORKER_MAX_INFLIGHT_MB): what a hold may take at once, who waits,
// in which order, and the payload larger than the budget that runs alone.
import { describe, expect, it } from '@jest/globals';
import { PayloadBudget } from '../src/index.ts';

describe('PayloadBudget', () => {
  it('grants what fits, refuses the rest without waiting, and never shrinks a hold', () => {
    const budget = new PayloadBudget(100);
    const a = budget.hold();
    const b = budget.hold();
    expect(a.tryReserve(60)).toBe(true);
    expect(b.tryReserve(50)).toBe(false);
    expect(b.tryReserve(40)).toBe(true);
    expect(a.tryReserve(30)).toBe(true);
    expect(budget.reserved).toBe(100);
    a.release();
    expect(budget.reserved).toBe(40);
  });

  it('waiters are served in order as holds are released, each once it fits', async () => {
    const budget = new PayloadBudget(100);
    const first = budget.hold();
    expect(first.tryReserve(90)).toBe(true);
    const served: string[] = [];
    const big = budget.hold();
    const small = budget.hold();
    const waits = [
      big.reserve(80).then(() => served.push('big')),
      small.reserve(10).then(() => served.push('small')),
    ];
    // A newcomer does not jump the queue, even when it would fit.
    expect(budget.hold().tryReserve(5)).toBe(false);
    await Promise.resolve();
    expect(served).toEqual([]);
    first.release();
    await Promise.all(waits);
    expect(served).toEqual(['big', 'small']);
    expect(budget.reserved).toBe(90);
  });

  it('a payload larger than the whole budget runs alone', async () => {
    const budget = new PayloadBudget(100);
    const other = budget.hold();
    expect(other.tryReserve(10)).toBe(true);
    const huge = budget.hold();
    expect(huge.tryReserve(500)).toBe(false);
    let granted = false;
    const waiting = huge.reserve(500).then(() => (granted = true));
    await Promise.resolve();
    expect(granted).toBe(false);
    other.release();
    await waiting;
    expect(budget.reserved).toBe(500);
    expect(budget.hold().tryReserve(1)).toBe(false);
    huge.release();
    expect(budget.reserved).toBe(0);
  });
});
