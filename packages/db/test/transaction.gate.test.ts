// Bulk-write transactions of a process are held to the gate's slots, served in order, and a slot
// given back twice is given back once.
import { describe, expect, it } from '@jest/globals';
import { bulkTransactionSlots, TransactionGate } from '../src/transaction.gate.ts';

const settled = async () => {
  for (let turn = 0; turn < 5; turn++) await Promise.resolve();
};

describe('TransactionGate', () => {
  it('holds transactions to its slots and hands a freed slot to the first waiter', async () => {
    const gate = new TransactionGate(2);
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

  it('a pool keeps two connections beside its bulk writes, and at least one slot', () => {
    expect([3, 10, 34].map(bulkTransactionSlots)).toEqual([1, 8, 32]);
    expect(bulkTransactionSlots(1)).toBe(1);
    expect(() => new TransactionGate(0)).toThrow('bulk-transaction slots: 0');
  });
});
