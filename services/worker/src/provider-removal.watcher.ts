/** How often the requests under way learn whether their providers still exist. */
const REMOVAL_CHECK_MS = 2_000;

/** Which of the given provider ids still exist (ProviderRepository.existing). */
export type ExistingProviders = (ids: string[]) => Promise<Set<string>>;

/**
 * The removal check of every request under way in the process: each tick asks once for all the
 * providers watched, not once per request, so a worker whose syncs wait on host leases, payload
 * budget or slow providers costs one query per tick. No timer runs while nothing is watched.
 */
export class ProviderRemovalWatcher {
  private readonly watched = new Map<string, Set<AbortController>>();
  private timer: NodeJS.Timeout | undefined;
  /** A tick slower than the interval is not overlapped by the next. */
  private checking = false;

  constructor(
    private readonly existing: ExistingProviders,
    private readonly intervalMs = REMOVAL_CHECK_MS,
  ) {}

  /** Aborts `controller` once `providerId` is gone; returns what stops watching it. */
  watch(providerId: string, controller: AbortController): () => void {
    let controllers = this.watched.get(providerId);
    if (!controllers) this.watched.set(providerId, (controllers = new Set()));
    controllers.add(controller);
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), this.intervalMs);
      this.timer.unref();
    }
    return () => this.unwatch(providerId, controller);
  }

  private unwatch(providerId: string, controller: AbortController): void {
    const controllers = this.watched.get(providerId);
    if (!controllers?.delete(controller) || controllers.size > 0) return;
    this.watched.delete(providerId);
    if (this.watched.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private tick(): void {
    if (this.checking) return;
    this.checking = true;
    const ids = [...this.watched.keys()];
    void this.existing(ids)
      .then(
        (present) => {
          // A provider gone when the query ran stays gone (ids are never reused): so are its requests since.
          for (const id of ids)
            if (!present.has(id))
              for (const controller of this.watched.get(id) ?? []) controller.abort();
        },
        // An unreadable database is no removal: the requests go on to their own deadlines.
        () => undefined,
      )
      .finally(() => {
        this.checking = false;
      });
  }
}
