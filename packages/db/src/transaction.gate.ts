/**
 * The bulk-write transactions (EventTransaction) of a process open at once: a large payload's
 * streamed write, or the pages a failed walk keeps. Each holds a pooled connection for its whole
 * write, which may last as long as the parse, so a pool smaller than the callers' concurrency
 * stays usable only if they cannot take it all: the connections left over serve the group commit
 * and the short queries every sync makes, which would otherwise wait behind whole transactions
 * and fail at the pool's connection timeout. A transaction waits for a slot holding no
 * connection, and a slot's holder needs no other connection of the pool to finish, so the wait
 * always ends. Waiters are served in order.
 */
export class TransactionGate {
  private open = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(readonly slots: number) {
    if (!Number.isInteger(slots) || slots < 1) throw new Error(`bulk-transaction slots: ${slots}`);
  }

  /** Transactions open now. */
  get inUse(): number {
    return this.open;
  }

  /** Waits for a slot; the returned function gives it back (once, however often it is called). */
  async take(): Promise<() => void> {
    if (this.open < this.slots && this.waiters.length === 0) this.open += 1;
    else await new Promise<void>((wake) => this.waiters.push(wake));
    let given = false;
    return () => {
      if (given) return;
      given = true;
      const next = this.waiters.shift();
      // The slot passes straight to the first waiter: `open` stays as it is.
      if (next) next();
      else this.open -= 1;
    };
  }
}

/**
 * Connections of a pool that are never held by a bulk-write transaction: one for the group
 * commit (one group at a time per process), one for the short queries of every sync.
 */
export const CONNECTIONS_BESIDE_BULK_WRITES = 2;

/** The bulk-write slots of a pool of `poolMax` connections. */
export function bulkTransactionSlots(poolMax: number): number {
  return Math.max(1, poolMax - CONNECTIONS_BESIDE_BULK_WRITES);
}
