export interface BatcherOptions<T, R> {
  /** Receives up to maxSize items and returns one result per item, in order. */
  run: (items: T[]) => Promise<R[]>;
  maxSize: number;
  /**
   * How long the first item may wait for company; 0 flushes once the current turn of the event
   * loop (every callback of this I/O phase) is done, without setTimeout's 1 ms minimum.
   */
  lingerMs: number;
  /** Callers beyond this many queued or in-flight items wait, so memory stays bounded. */
  maxPending?: number;
  /**
   * Batches running at once. Items arriving while all are busy wait and leave together in the
   * next, bigger batch (group commit), instead of each taking its own connection and commit.
   */
  maxConcurrent?: number;
  /**
   * With a slot free, a batch leaves as soon as it holds this many items instead of at the end
   * of the turn, so the database starts on it while callers still being processed in this turn
   * form the next one. Default: maxSize.
   */
  flushAt?: number;
}

interface Pending<T, R> {
  item: T;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Groups concurrent single-item calls into set-based batches, so the hot path pays one
 * round trip per batch instead of one per row. Bounded: `add` waits when maxPending is reached.
 */
export class Batcher<T, R> {
  private queue: Pending<T, R>[] = [];
  private cancelTimer: (() => void) | null = null;
  private inFlight = 0;
  private running = 0;
  private waiters: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: BatcherOptions<T, R>) {}

  get pending(): number {
    return this.queue.length + this.inFlight;
  }

  async add(item: T): Promise<R> {
    const limit = this.options.maxPending ?? Number.POSITIVE_INFINITY;
    while (this.pending >= limit) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.queue.length >= this.options.maxSize || (this.queue.length >= (this.options.flushAt ?? this.options.maxSize) && this.hasFreeSlot())) {
        this.flush();
      } else if (!this.cancelTimer) this.cancelTimer = this.schedule();
    });
  }

  /** Resolves once every item handed in so far has been run. */
  async drain(): Promise<void> {
    this.flush();
    if (this.pending === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private hasFreeSlot(): boolean {
    return this.running < (this.options.maxConcurrent ?? Number.POSITIVE_INFINITY);
  }

  private schedule(): () => void {
    if (this.options.lingerMs === 0) {
      const immediate = setImmediate(() => this.flush());
      return () => clearImmediate(immediate);
    }
    const timeout = setTimeout(() => this.flush(), this.options.lingerMs);
    return () => clearTimeout(timeout);
  }

  private flush(): void {
    if (this.cancelTimer) {
      this.cancelTimer();
      this.cancelTimer = null;
    }
    while (this.queue.length > 0 && this.hasFreeSlot()) {
      const batch = this.queue.splice(0, this.options.maxSize);
      void this.runBatch(batch);
    }
    for (const wake of this.waiters.splice(0)) wake();
  }

  private async runBatch(batch: Pending<T, R>[]): Promise<void> {
    this.inFlight += batch.length;
    this.running++;
    try {
      const results = await this.options.run(batch.map((p) => p.item));
      batch.forEach((p, i) => p.resolve(results[i] as R));
    } catch (error) {
      for (const p of batch) p.reject(error);
    } finally {
      this.inFlight -= batch.length;
      this.running--;
      // What queued up while every slot was busy leaves now, as one batch.
      if (this.queue.length > 0) this.flush();
      for (const wake of this.waiters.splice(0)) wake();
      if (this.pending === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }
}
