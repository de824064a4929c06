// CPU seconds used by the other processes on the box (Postgres backends, Redis), read from /proc,
// so that the report can say whether Node or the database is the bottleneck. Linux only; {} elsewhere.
import { readdirSync, readFileSync } from 'node:fs';

const hz = 100; // USER_HZ on Linux

/**
 * The fields of a /proc/<pid>/stat or /proc/<pid>/task/<tid>/stat line after the command name,
 * 0-based from the state field: [6] flags, [11] utime, [12] stime. The command name is in
 * parentheses and may hold spaces, so fields count from its closing one.
 */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** utime + stime of a stat line's fields, in seconds. */
function cpuSeconds(fields: string[]): number {
  return (Number(fields[11]) + Number(fields[12])) / hz;
}

/** Calls `visit` with the pid, command name and stat line of every process in /proc (none off Linux). */
function eachProcessStat(visit: (pid: string, comm: string, stat: string) => void): void {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return;
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      visit(pid, stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), stat);
    } catch {
      // the process ended while we read it
    }
  }
}

export function processCpuSeconds(names = ['postgres', 'redis-server']): Record<string, number> {
  const totals: Record<string, number> = {};
  eachProcessStat((_pid, comm, stat) => {
    const name = names.find((n) => comm.startsWith(n));
    if (name) totals[name] = (totals[name] ?? 0) + cpuSeconds(statFields(stat));
  });
  return totals;
}

const PF_KTHREAD = 0x00200000;

/**
 * CPU seconds of each kernel thread, by pid. On a small VM a kernel thread that wakes up
 * periodically and runs for tens of milliseconds (seen here: kdamond, the kernel's memory
 * access monitor) takes one of the two CPUs away from Postgres and Node while it runs.
 */
export function kernelThreadCpuSeconds(): Map<string, { name: string; seconds: number }> {
  const threads = new Map<string, { name: string; seconds: number }>();
  eachProcessStat((pid, comm, stat) => {
    const fields = statFields(stat);
    if ((Number(fields[6]) & PF_KTHREAD) !== 0) threads.set(pid, { name: comm, seconds: cpuSeconds(fields) });
  });
  return threads;
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
    return cpuSeconds(statFields(readFileSync('/proc/thread-self/stat', 'utf8')));
  } catch {
    return null;
  }
}

/**
 * Kernel threads' CPU between two snapshots: all of them, and the busiest few, in ms per second.
 * Threads are matched by pid: a kernel worker's name follows the work queue it serves at the
 * moment, so the same thread can carry another name in each snapshot.
 */
export function kernelThreadCpu(before: ReturnType<typeof kernelThreadCpuSeconds>, after: ReturnType<typeof kernelThreadCpuSeconds>, wallSeconds: number) {
  const byName = new Map<string, number>();
  for (const [pid, { name, seconds }] of after) {
    const ms = ((seconds - (before.get(pid)?.seconds ?? 0)) / wallSeconds) * 1000;
    if (ms > 0) byName.set(name, (byName.get(name) ?? 0) + ms);
  }
  const used = [...byName].sort((a, b) => b[1] - a[1]);
  return {
    totalMsPerSec: Math.round(used.reduce((sum, [, ms]) => sum + ms, 0)),
    busiest: used.slice(0, 3).map(([name, msPerSec]) => ({ name, msPerSec: Math.round(msPerSec) })),
  };
}

export interface SchedSnapshot {
  /** Nanoseconds the calling thread ran, and waited runnable for a CPU (/proc/thread-self/schedstat). */
  onCpuNs: number;
  runQueueNs: number;
  /** Times it gave the CPU up itself (waiting for I/O), and was preempted while still runnable. */
  voluntarySwitches: number;
  involuntarySwitches: number;
  /** The whole machine's idle time, in USER_HZ ticks summed over CPUs (/proc/stat). */
  machineIdleTicks: number;
  machineTotalTicks: number;
}

/**
 * The event loop's thread as the scheduler saw it, and the machine's idle time (Linux; null
 * elsewhere). A V8 profile samples the main thread by wall clock, so time it spent preempted
 * shows as whatever native call it was in (on loopback, often the socket write that woke the
 * Postgres backend which then took its CPU); the run-queue time tells that apart from work.
 */
export function schedSnapshot(): SchedSnapshot | null {
  try {
    const [onCpuNs, runQueueNs] = readFileSync('/proc/thread-self/schedstat', 'utf8').trim().split(' ').map(Number);
    const status = readFileSync('/proc/thread-self/status', 'utf8');
    const switches = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
    // cpu  user nice system idle iowait irq softirq steal ...: idle and iowait count as idle.
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
    return {
      onCpuNs: onCpuNs!,
      runQueueNs: runQueueNs!,
      voluntarySwitches: switches('voluntary_ctxt_switches'),
      involuntarySwitches: switches('nonvoluntary_ctxt_switches'),
      machineIdleTicks: cpu[3]! + cpu[4]!,
      machineTotalTicks: cpu.reduce((a, b) => a + b, 0),
    };
  } catch {
    return null;
  }
}

/** Between two snapshots: the main thread's shares of wall time, its switches per second, and the machine's idle share. */
export function schedDelta(before: SchedSnapshot | null, after: SchedSnapshot | null, wallSeconds: number) {
  if (!before || !after) return null;
  const pct = (ns: number) => Math.round((ns / 1e9 / wallSeconds) * 1000) / 10;
  return {
    mainThreadOnCpuPct: pct(after.onCpuNs - before.onCpuNs),
    mainThreadRunQueuePct: pct(after.runQueueNs - before.runQueueNs),
    involuntarySwitchesPerSec: Math.round((after.involuntarySwitches - before.involuntarySwitches) / wallSeconds),
    voluntarySwitchesPerSec: Math.round((after.voluntarySwitches - before.voluntarySwitches) / wallSeconds),
    machineIdlePct: Math.round(((after.machineIdleTicks - before.machineIdleTicks) / Math.max(1, after.machineTotalTicks - before.machineTotalTicks)) * 1000) / 10,
  };
}
