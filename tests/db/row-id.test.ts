import { describe, expect, it } from 'vitest';
import { newRowId } from '../../lib/db/row-id.js';

describe('newRowId', () => {
  it('mints RFC 9562 version-7 UUIDs that Postgres accepts as uuid', () => {
    expect(newRowId()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('never repeats, including across refills of its random pool', () => {
    const ids = new Set(Array.from({ length: 50_000 }, newRowId));
    expect(ids.size).toBe(50_000);
  });

  it('sorts ids minted in later milliseconds after earlier ones, so new index entries go to the right', async () => {
    const earlier = newRowId();
    await new Promise((r) => setTimeout(r, 3));
    const later = Array.from({ length: 100 }, newRowId);
    for (const id of later) expect(id > earlier).toBe(true);
  });
});
