// A bystander on the same Postgres: one single-row INSERT committed every few milliseconds on a
// connection of its own. Its commits wait for the same WAL flushes and CPUs as Herald's, but go
// through none of Herald's code, so a latency tail the canary shares is the machine's or the
// server's, and one it does not share is Herald's.
import { loopOnOwnConnection } from './side-connection.js';
import { percentile, round, sleep } from './util.js';

export interface CanaryResult {
  commits: number;
  everyMs: number;
  ms: { p50: number | null; p99: number | null; max: number | null };
  /** Commits that took longer than 15 ms: stalls, not queueing behind a busy flush. */
  over15ms: number;
}

const table = 'bench_commit_canary';

/** Starts committing; `stop` drops the canary's table and returns its commit latencies. */
export async function startCommitCanary(databaseUrl: string, everyMs: number): Promise<{ stop: () => Promise<CanaryResult> }> {
  const latencies: number[] = [];
  const canary = await loopOnOwnConnection(databaseUrl, {
    everyMs,
    // A logged table, so each commit flushes WAL as Herald's do (a temporary one would not).
    setUp: (client) => client.query(`CREATE TABLE IF NOT EXISTS ${table} (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())`),
    async tick(client) {
      const t0 = performance.now();
      await client.query(`INSERT INTO ${table} DEFAULT VALUES`);
      latencies.push(performance.now() - t0);
    },
    tearDown: (client) => client.query(`DROP TABLE IF EXISTS ${table}`),
  });
  return {
    async stop() {
      await canary.stop();
      return {
        commits: latencies.length,
        everyMs,
        ms: { p50: round(percentile(latencies, 50), 2), p99: round(percentile(latencies, 99), 2), max: round(percentile(latencies, 100), 1) },
        over15ms: latencies.filter((ms) => ms > 15).length,
      };
    },
  };
}

/** The canary alone on an idle machine for `ms`: the same-run baseline for its figures under load. */
export async function idleCommitCanary(databaseUrl: string, everyMs: number, ms: number): Promise<CanaryResult> {
  const canary = await startCommitCanary(databaseUrl, everyMs);
  await sleep(ms);
  return canary.stop();
}
