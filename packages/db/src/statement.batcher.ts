interface Waiting<I, O> {
  item: I;
  resolve: (result: O) => void;
  reject: (error: unknown) => void;
}

interface LingerOptions {
  /** A batch of fewer items than this waits for more (`lingerMs`) before it is written. */
  fill: number;
  /** How long such a batch waits, once; 0 writes every batch at once. */
  lingerMs: number;
}

/**
 * Statements per sync fall as batches grow: a 1,000-provider cycle of one worker process at 32
 * syncs in flight made 0.44 commits per sync without lingering and 0.31 with 2 ms, and drained
 * 7% faster (fewer statements for the worker and PostgreSQL; bench/RESULTS.md). A lone sync
 * waits 2 ms per batched statement.
 */
const DEFAULT_LINGER: LingerOptions = { fill: 8, lingerMs: 2 };

/**
 * Group commit: items handed over while a batch is being written form the next batch, written by
 * one call of `write` (one statement or transaction for many callers). Each caller's promise
 * settles with its own result once its batch is written, so nothing completes before its write
 * does. A batch that fails is written again item by item: one bad item fails its own caller only.
 */
export class StatementBatcher<I, O> {
  private pending: Waiting<I, O>[] = [];
  private draining = false;

  /** `write` answers one result per item, in order, or throws when nothing was written. */
  constructor(
    private readonly write: (items: I[]) => Promise<O[]>,
    private readonly linger: LingerOptions = DEFAULT_LINGER,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (!this.draining) {
        this.draining = true;
        // Items handed over in the same turn join the first batch.
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      if (this.pending.length < this.linger.fill && this.linger.lingerMs > 0) {
        await new Promise((resolve) => setTimeout(resolve, this.linger.lingerMs));
      }
      const batch = this.pending;
      this.pending = [];
      try {
        await this.settle(batch);
      } catch (error) {
        if (batch.length === 1) batch[0]?.reject(error);
        // Alone, each item succeeds or fails on its own.
        else for (const one of batch) await this.settle([one]).catch(one.reject);
      }
    }
    this.draining = false;
  }

  private async settle(batch: Waiting<I, O>[]): Promise<void> {
    const results = await this.write(batch.map((waiting) => waiting.item));
    batch.forEach((waiting, index) => waiting.resolve(results[index] as O));
  }
}
