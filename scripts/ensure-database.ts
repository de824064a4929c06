// Creates the database named in DATABASE_URL when it does not exist yet, and says whether
// Prisma has migrations to apply there: exit code 0 when every migration in prisma/migrations
// is recorded as applied with the same checksum, 10 when something is left for
// `prisma migrate deploy`. The CLI takes about 12 s even with nothing to do (it keeps a
// database connection open until a timeout before exiting), and every `npm start`, `npm test`
// and `npm run bench` goes through setup, so setup asks this first.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';

const url = new URL(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/herald');
const name = decodeURIComponent(url.pathname.slice(1));
if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`DATABASE_URL: database name "${name}" must be letters, digits and _`);
const admin = new URL(url);
admin.pathname = '/postgres';
const client = new pg.Client({ connectionString: admin.toString() });
await client.connect();
const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
if (!rowCount) {
  await client.query(`CREATE DATABASE "${name}"`);
  console.log(`[setup] created database ${name}`);
}
await client.end();

const migrationsDir = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../prisma/migrations');
const wanted = readdirSync(migrationsDir, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(path.join(migrationsDir, d.name, 'migration.sql')))
  .map((d) => ({ name: d.name, checksum: createHash('sha256').update(readFileSync(path.join(migrationsDir, d.name, 'migration.sql'))).digest('hex') }));

const db = new pg.Client({ connectionString: url.toString() });
await db.connect();
let applied = new Map<string, string>();
try {
  const { rows } = await db.query<{ migration_name: string; checksum: string }>(
    `SELECT migration_name, checksum FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
  );
  applied = new Map(rows.map((r) => [r.migration_name, r.checksum]));
} catch {
  // No _prisma_migrations table yet: a new database, everything is pending.
} finally {
  await db.end();
}
const pending = wanted.filter((m) => applied.get(m.name) !== m.checksum);
process.exit(pending.length === 0 ? 0 : 10);
