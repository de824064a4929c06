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

export interface GcPauseSummary {
  msPerSec: number | null;
  byKind: Record<string, { count: number; msPerSec: number | null; meanMs: number | null }>;
}

/** Counts the pauses from now until stop(), which returns them per second of the window it is given. */
export function watchGcPauses(): { stop(seconds: number): GcPauseSummary } {
  const totals: Record<string, { count: number; ms: number }> = {};
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = kinds[(entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? -1] ?? 'other';
      const t = (totals[kind] ??= { count: 0, ms: 0 });
      t.count++;
      t.ms += entry.duration;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    stop(seconds) {
      observer.disconnect();
      let ms = 0;
      const byKind: GcPauseSummary['byKind'] = {};
      for (const [kind, t] of Object.entries(totals)) {
        ms += t.ms;
        byKind[kind] = { count: t.count, msPerSec: round(t.ms / seconds, 1), meanMs: round(t.ms / t.count, 2) };
      }
      return { msPerSec: round(ms / seconds, 1), byKind };
    },
  };
}
