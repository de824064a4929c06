import { describe, expect, it } from 'vitest';
import { Batcher } from '../../lib/util/batcher.js';

describe('Batcher', () => {
  it('groups concurrent calls into batches no larger than maxSize, results in order', async () => {
    const sizes: number[] = [];
    const batcher = new Batcher<number, number>({ run: async (xs) => { sizes.push(xs.length); return xs.map((x) => x * 2); }, maxSize: 4, lingerMs: 5 });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => batcher.add(i)));
    expect(results).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    expect(sizes).toEqual([4, 4, 2]);
  });

  it('rejects every caller of a failed batch', async () => {
    const batcher = new Batcher<number, number>({ run: async () => { throw new Error('db down'); }, maxSize: 10, lingerMs: 0 });
    const results = await Promise.allSettled([batcher.add(1), batcher.add(2)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });

  it('holds callers back beyond maxPending instead of growing without bound', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const batcher = new Batcher<number, number>({ run: async (xs) => { await gate; return xs; }, maxSize: 2, lingerMs: 5, maxPending: 2 });
    const first = [batcher.add(1), batcher.add(2)];
    const third = batcher.add(3);
    await new Promise((r) => setTimeout(r, 20));
    expect(batcher.pending).toBe(2);
    release();
    expect(await Promise.all([...first, third])).toEqual([1, 2, 3]);
  });
});
