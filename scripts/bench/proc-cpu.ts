// CPU seconds used by the other processes on the box (Postgres backends, Redis), read from /proc,
// so that the report can say whether Node or the database is the bottleneck. Linux only; {} elsewhere.
import { readdirSync, readFileSync } from 'node:fs';

const hz = 100; // USER_HZ on Linux

/** utime + stime of a /proc/<pid>/stat or /proc/<pid>/task/<tid>/stat line, in seconds. */
function statCpuSeconds(stat: string): number {
  // fields[11] = utime, fields[12] = stime (0-based after the state field); the command name
  // before them is in parentheses and may hold spaces, so fields count from its closing one.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / hz;
}

export function processCpuSeconds(names = ['postgres', 'redis-server']): Record<string, number> {
  const totals: Record<string, number> = {};
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return totals;
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const open = stat.indexOf('(');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(open + 1, close);
      const name = names.find((n) => comm.startsWith(n));
      if (!name) continue;
      totals[name] = (totals[name] ?? 0) + statCpuSeconds(stat);
    } catch {
      // the process ended while we read it
    }
  }
  return totals;
}

/** CPU use between two snapshots, as a percentage of one core over `wallSeconds`. */
export function cpuPercent(before: Record<string, number>, after: Record<string, number>, wallSeconds: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, a] of Object.entries(after)) out[name] = Math.round(((a - (before[name] ?? 0)) / wallSeconds) * 1000) / 10;
  return out;
}

/**
 * CPU seconds of the calling thread alone (Linux; null elsewhere). Beside process.cpuUsage(),
 * which counts every thread, it separates the event loop from V8's helper threads (GC, compiler).
 */
export function threadCpuSeconds(): number | null {
  try {
    return statCpuSeconds(readFileSync('/proc/thread-self/stat', 'utf8'));
  } catch {
    return null;
  }
}
