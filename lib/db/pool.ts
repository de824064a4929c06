import pg from 'pg';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

// bigint counts come back as strings by default; every count Herald reads fits in a double.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

/** The hot path talks to Postgres through pg directly: set-based SQL costs far less per row than the ORM. */
export function createPool(databaseUrl: string, max = 10): Pool {
  // A bounded connect time turns an unreachable Postgres into a prompt error (HTTP 503), not a hang.
  const pool = new pg.Pool({ connectionString: databaseUrl, max, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 3_000 });
  // An idle client losing its connection (Postgres restart) must not crash the process.
  pool.on('error', () => {});
  // Nor may a checked-out one: at a restart Postgres sends FATAL to every session, and a client
  // between statements (or one whose one-shot listener already fired) would otherwise emit an
  // unhandled 'error'. Its pending and later queries still fail, and pg-pool discards a client
  // that is no longer queryable when it is released.
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  return pool;
}

/**
 * Runs `fn` in a transaction on one pooled client. `settings` are `SET LOCAL` statements sent in
 * the same round trip as BEGIN (a simple-protocol query may hold several statements), so a
 * transaction that needs them pays nothing extra.
 */
export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>, settings: readonly string[] = []): Promise<T> {
  const client = await pool.connect();
  // pg emits 'error' on a checked-out client whose server goes away (Postgres restart); the
  // pending query rejects anyway, and without a listener the event would crash the process.
  let broken: Error | undefined;
  const ignore = (error: Error) => {
    broken = error;
  };
  client.on('error', ignore);
  try {
    await client.query(['BEGIN', ...settings].join('; '));
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.removeListener('error', ignore);
    // A client whose connection failed is destroyed rather than handed to the next caller.
    client.release(broken);
  }
}
