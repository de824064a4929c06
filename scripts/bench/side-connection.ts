// Bench probes that run beside the pipeline on a Postgres connection of their own, so the
// pipeline's pool keeps all of its connections.
import pg from 'pg';
import { sleep } from './util.js';

export interface SideLoopOptions {
  everyMs: number;
  /** Once, before the first tick. */
  setUp?: (client: pg.Client) => Promise<unknown>;
  tick: (client: pg.Client) => Promise<void>;
  /** Once, after the last tick, before the connection closes. */
  tearDown?: (client: pg.Client) => Promise<unknown>;
}

/** Connects, then runs `tick` every `everyMs` until `stop`, which waits for the last tick and closes the connection. */
export async function loopOnOwnConnection(databaseUrl: string, o: SideLoopOptions): Promise<{ stop: () => Promise<void> }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await o.setUp?.(client);
  } catch (error) {
    await client.end();
    throw error;
  }
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await o.tick(client);
      await sleep(o.everyMs);
    }
  })();
  return {
    async stop() {
      stopped = true;
      try {
        await loop;
        await o.tearDown?.(client);
      } finally {
        await client.end();
      }
    },
  };
}
