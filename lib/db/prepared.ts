import type pg from 'pg';

/**
 * A named statement for the hot path. Postgres parses it once per connection and, after a few
 * runs, may keep a generic plan: Herald's set-based statements cost 1–2 ms each to parse and
 * plan, which at hundreds of batches a second was most of the database's CPU. The text under
 * one name must never vary (pg refuses a name reused with different text).
 */
export function prepared(name: string, text: string, values: unknown[]): pg.QueryConfig {
  return { name: `herald.${name}`, text, values };
}
