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

  it('with maxConcurrent, items arriving while every slot is busy leave together in the next batch', async () => {
    const sizes: number[] = [];
    let running = 0;
    let maxRunning = 0;
    const gates: (() => void)[] = [];
    const batcher = new Batcher<number, number>({
      run: async (xs) => {
        sizes.push(xs.length);
        running++;
        maxRunning = Math.max(maxRunning, running);
        await new Promise<void>((r) => gates.push(r));
        running--;
        return xs;
      },
      maxSize: 100,
      lingerMs: 0,
      maxConcurrent: 1,
    });
    const first = batcher.add(0);
    await new Promise((r) => setTimeout(r, 5));
    expect(sizes).toEqual([1]);
    // Ten callers on separate turns of the event loop, all while the first batch runs.
    const rest: Promise<number>[] = [];
    for (let i = 1; i <= 10; i++) {
      rest.push(batcher.add(i));
      await new Promise((r) => setTimeout(r, 1));
    }
    expect(sizes).toEqual([1]);
    gates.shift()!();
    await first;
    await new Promise((r) => setTimeout(r, 5));
    expect(sizes).toEqual([1, 10]);
    gates.shift()!();
    expect(await Promise.all(rest)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(maxRunning).toBe(1);
    await batcher.drain();
    expect(batcher.pending).toBe(0);
  });

  it('with flushAt and a slot free, a batch leaves mid-turn; once slots are busy the rest wait and grow', async () => {
    const sizes: number[] = [];
    const gates: (() => void)[] = [];
    const batcher = new Batcher<number, number>({
      run: async (xs) => {
        sizes.push(xs.length);
        await new Promise<void>((r) => gates.push(r));
        return xs;
      },
      maxSize: 100,
      lingerMs: 0,
      maxConcurrent: 2,
      flushAt: 3,
    });
    // Ten callers in one synchronous stretch: the first two batches of 3 leave before the turn
    // ends, the other four wait for a slot.
    const all = Array.from({ length: 10 }, (_, i) => batcher.add(i));
    await Promise.resolve();
    expect(sizes).toEqual([3, 3]);
    gates.shift()!();
    await new Promise((r) => setTimeout(r, 5));
    expect(sizes).toEqual([3, 3, 4]);
    for (const open of gates.splice(0)) open();
    await new Promise((r) => setTimeout(r, 5));
    for (const open of gates.splice(0)) open();
    expect(await Promise.all(all)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
