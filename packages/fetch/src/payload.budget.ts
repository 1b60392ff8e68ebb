/**
 * The payload bytes a worker process holds at once, across its concurrent syncs
 * (WORKER_MAX_INFLIGHT_MB). Each sync has a `PayloadHold`; the fetcher grows it as a body arrives
 * (its Content-Length at once, else in steps) with `tryReserve`, which never waits: a fetch that
 * cannot grow its hold is aborted with BudgetWaitError (dropping the bytes it read), the sync
 * waits for the bytes outside the fetch chain (`reserve`: no fetch deadline, host lease or
 * breaker runs meanwhile) and fetches again. A waiting sync holds nothing, so the syncs holding
 * bytes always finish and the wait always ends; a payload larger than the whole budget is let
 * through when nothing else is held (it runs alone). Waiters are served in order.
 */
export class PayloadBudget {
  private used = 0;
  private readonly waiters: { hold: PayloadHold; bytes: number; wake: () => void }[] = [];

  constructor(readonly maxBytes: number) {}

  /** Bytes held by every hold together. */
  get reserved(): number {
    return this.used;
  }

  hold(): PayloadHold {
    return new PayloadHold(this);
  }

  /** Grows `hold` to `bytes` when it fits now and no one waits; false otherwise. */
  grant(hold: PayloadHold, bytes: number): boolean {
    if (this.waiters.length > 0 || !this.fits(hold, bytes)) return false;
    this.take(hold, bytes);
    return true;
  }

  /** Grows `hold` to `bytes` once they fit, after the holds that wait before it. */
  async wait(hold: PayloadHold, bytes: number): Promise<void> {
    if (this.grant(hold, bytes)) return;
    await new Promise<void>((wake) => this.waiters.push({ hold, bytes, wake }));
  }

  /** Gives back what `hold` holds and serves the waiters that now fit, in order. */
  free(hold: PayloadHold): void {
    this.used -= hold.bytes;
    hold.bytes = 0;
    for (let first = this.waiters[0]; first !== undefined; first = this.waiters[0]) {
      if (!this.fits(first.hold, first.bytes)) return;
      this.waiters.shift();
      this.take(first.hold, first.bytes);
      first.wake();
    }
  }

  /** It fits under the budget, or nothing else is held (a payload over the budget runs alone). */
  private fits(hold: PayloadHold, bytes: number): boolean {
    const others = this.used - hold.bytes;
    return others === 0 || others + bytes <= this.maxBytes;
  }

  private take(hold: PayloadHold, bytes: number): void {
    this.used += bytes - hold.bytes;
    hold.bytes = bytes;
  }
}

/** One sync's share of the budget: the largest payload it holds at once. */
export class PayloadHold {
  /** Bytes held (set by the budget). */
  bytes = 0;

  constructor(private readonly budget: PayloadBudget) {}

  /** Grows the hold to `bytes` (never shrinks it) when it fits now; false when it must wait. */
  tryReserve(bytes: number): boolean {
    return bytes <= this.bytes || this.budget.grant(this, bytes);
  }

  /** Gives back what it holds, then waits until `bytes` fit and holds them. */
  async reserve(bytes: number): Promise<void> {
    this.release();
    await this.budget.wait(this, bytes);
  }

  release(): void {
    if (this.bytes > 0) this.budget.free(this);
  }
}
