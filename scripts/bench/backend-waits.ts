// What the bench database's busy backends are doing, sampled from pg_stat_activity: where a
// latency tail goes (WAL flushes, locks, I/O, CPU) without a profiler on the server.
import { loopOnOwnConnection } from './side-connection.js';

export interface BackendWaits {
  /** Snapshots taken; each counts every active backend once. */
  samples: number;
  everyMs: number;
  /** `type:event` of each active backend seen, or `CPU` when it was waiting on nothing; most first. */
  byWait: Record<string, number>;
}

/**
 * Samples on a connection of its own, so the pipeline's pool keeps all of its connections.
 * The sampler's own backend is left out; its reads, about 40 a second, are cheap next to the pipeline's.
 */
export async function sampleBackendWaits(databaseUrl: string, everyMs: number): Promise<{ stop: () => Promise<BackendWaits> }> {
  const counts = new Map<string, number>();
  let samples = 0;
  const sampler = await loopOnOwnConnection(databaseUrl, {
    everyMs,
    async tick(client) {
      const { rows } = await client.query<{ wait: string }>(
        `SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') AS wait FROM pg_stat_activity
          WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()`,
      );
      samples++;
      for (const { wait } of rows) counts.set(wait, (counts.get(wait) ?? 0) + 1);
    },
  });
  return {
    async stop() {
      await sampler.stop();
      return { samples, everyMs, byWait: Object.fromEntries([...counts].sort((a, b) => b[1] - a[1])) };
    },
  };
}
