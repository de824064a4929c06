// Garbage-collection pauses on the main thread, from V8's own 'gc' performance entries: how much
// of a window the process spent collecting instead of working, by kind of collection.
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { round } from './util.js';

const kinds: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

export interface GcTotals { [kind: string]: { count: number; ms: number } }

export class GcPauses {
  private readonly totals: GcTotals = {};
  private readonly observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) this.add(entry);
  });

  start(): this {
    this.observer.observe({ entryTypes: ['gc'] });
    return this;
  }

  stop(): void {
    this.observer.disconnect();
  }

  mark(): GcTotals {
    return structuredClone(this.totals);
  }

  /** Pause time per second of wall clock between two marks, in total and by kind. */
  summary(from: GcTotals, to: GcTotals, seconds: number) {
    const byKind: Record<string, { count: number; msPerSec: number; meanMs: number }> = {};
    let ms = 0;
    for (const [kind, t] of Object.entries(to)) {
      const count = t.count - (from[kind]?.count ?? 0);
      const kindMs = t.ms - (from[kind]?.ms ?? 0);
      if (count === 0) continue;
      ms += kindMs;
      byKind[kind] = { count, msPerSec: round(kindMs / seconds, 1)!, meanMs: round(kindMs / count, 2)! };
    }
    return { msPerSec: round(ms / seconds, 1), byKind };
  }

  private add(entry: PerformanceEntry): void {
    const kind = kinds[(entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? -1] ?? 'other';
    const t = (this.totals[kind] ??= { count: 0, ms: 0 });
    t.count++;
    t.ms += entry.duration;
  }
}
