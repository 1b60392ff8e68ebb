// Bulk-write transactions of a process are held to the gate's slots, served in order, and a slot
// given back twice is given back once.
import { describe, expect, it } from '@jest/globals';
import { BulkWriteGate, bulkWriteSlots } from '../src/bulk-write.gate.ts';

const settled = async () => {
  for (let turn = 0; turn < 5; turn++) await Promise.resolve();
};

describe('BulkWriteGate', () => {
  it('holds transactions to its slots and hands a freed slot to the first waiter', async () => {
    const gate = new BulkWriteGate(2);
    const first = await gate.take();
    const second = await gate.take();
    const order: string[] = [];
    const third = gate.take().then((free) => (order.push('third'), free));
    const fourth = gate.take().then((free) => (order.push('fourth'), free));
    await settled();
    expect({ inUse: gate.inUse, order }).toEqual({ inUse: 2, order: [] });

    first();
    // Given back again (a commit that failed, then its rollback): no second slot appears.
    first();
    await settled();
    expect({ inUse: gate.inUse, order }).toEqual({ inUse: 2, order: ['third'] });
    second();
    (await third)();
    (await fourth)();
    expect({ inUse: gate.inUse, order }).toEqual({ inUse: 0, order: ['third', 'fourth'] });
  });

  it('around gives the slot back whether the work succeeds or fails', async () => {
    const gate = new BulkWriteGate(1);
    await expect(gate.around(() => Promise.reject(new Error('rolled back')))).rejects.toThrow(
      'rolled back',
    );
    expect(gate.inUse).toBe(0);
    expect(await gate.around(() => Promise.resolve(7))).toBe(7);
    expect(gate.inUse).toBe(0);
  });

  it('a pool keeps two connections beside its bulk writes, and at least one slot', () => {
    expect([3, 10, 34].map(bulkWriteSlots)).toEqual([1, 8, 32]);
    expect(bulkWriteSlots(1)).toBe(1);
    expect(() => new BulkWriteGate(0)).toThrow('bulk-write slots: 0');
  });
});
