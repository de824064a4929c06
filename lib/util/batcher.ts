export interface BatcherOptions<T, R> {
  /** Receives up to maxSize items and returns one result per item, in order. */
  run: (items: T[]) => Promise<R[]>;
  maxSize: number;
  /** How long the first item may wait for company; 0 flushes on the next turn of the event loop. */
  lingerMs: number;
  /** Callers beyond this many queued or in-flight items wait, so memory stays bounded. */
  maxPending?: number;
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
  private timer: NodeJS.Timeout | null = null;
  private inFlight = 0;
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
      if (this.queue.length >= this.options.maxSize) this.flush();
      else if (!this.timer) this.timer = setTimeout(() => this.flush(), this.options.lingerMs);
    });
  }

  /** Resolves once every item handed in so far has been run. */
  async drain(): Promise<void> {
    this.flush();
    if (this.pending === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.maxSize);
      void this.runBatch(batch);
    }
    for (const wake of this.waiters.splice(0)) wake();
  }

  private async runBatch(batch: Pending<T, R>[]): Promise<void> {
    this.inFlight += batch.length;
    try {
      const results = await this.options.run(batch.map((p) => p.item));
      batch.forEach((p, i) => p.resolve(results[i] as R));
    } catch (error) {
      for (const p of batch) p.reject(error);
    } finally {
      this.inFlight -= batch.length;
      for (const wake of this.waiters.splice(0)) wake();
      if (this.pending === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }
}
