/** Bounds concurrent work; waiters queue in arrival order. */
export class Semaphore {
  private waiters: (() => void)[] = [];
  private active = 0;

  constructor(private readonly limit: number) {}

  get inUse(): number {
    return this.active;
  }

  async acquire(): Promise<() => void> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiters.push(resolve));
    else this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next) next();
      else this.active--;
    };
  }

  /** Resolves when nothing holds the semaphore. */
  async idle(): Promise<void> {
    while (this.active > 0 || this.waiters.length > 0) await new Promise((r) => setTimeout(r, 10));
  }
}
