import { describe, expect, it } from 'vitest';
import { deadline, SharedDeadlines } from '../../lib/util/deadline.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('deadline', () => {
  it('aborts its signal with a TimeoutError once the time is up', async () => {
    const d = deadline(20);
    expect(d.signal.aborted).toBe(false);
    await sleep(60);
    expect(d.signal.aborted).toBe(true);
    expect((d.signal.reason as DOMException).name).toBe('TimeoutError');
  });

  it('never aborts once cleared', async () => {
    const many = Array.from({ length: 1_000 }, () => deadline(30));
    for (const d of many) d.clear();
    await sleep(60);
    expect(many.some((d) => d.signal.aborted)).toBe(false);
  });
});

describe('SharedDeadlines', () => {
  it('gives work started within one window the same signal, and a new one after the window', async () => {
    const deadlines = new SharedDeadlines(1_000, 20);
    const a = deadlines.start();
    const b = deadlines.start();
    await sleep(40);
    const c = deadlines.start();
    expect(b.signal).toBe(a.signal);
    expect(c.signal).not.toBe(a.signal);
    for (const d of [a, b, c]) d.clear();
  });

  it('aborts no earlier than the deadline and no later than the deadline plus the window', async () => {
    const deadlines = new SharedDeadlines(60, 20);
    const started = performance.now();
    const d = deadlines.start();
    const aborted = await new Promise<number>((resolve) => d.signal.addEventListener('abort', () => resolve(performance.now())));
    // Timers may fire a millisecond early by performance.now()'s clock.
    expect(aborted - started).toBeGreaterThanOrEqual(59);
    expect(aborted - started).toBeLessThan(60 + 20 + 50);
    expect((d.signal.reason as DOMException).name).toBe('TimeoutError');
    expect((d.signal.reason as DOMException).message).toBe('timed out after 60 ms');
  });

  it('never aborts a window whose work all cleared once a newer window opened', async () => {
    const deadlines = new SharedDeadlines(40, 5);
    const first = Array.from({ length: 100 }, () => deadlines.start());
    await sleep(10);
    const second = deadlines.start();
    for (const d of first) d.clear();
    second.clear();
    // A third window makes the second one old too, and its last user is already gone.
    await sleep(10);
    const third = deadlines.start();
    third.clear();
    await sleep(80);
    expect(first[0]!.signal.aborted).toBe(false);
    expect(second.signal.aborted).toBe(false);
  });

  it('keeps the window open for others when one user clears twice', async () => {
    const deadlines = new SharedDeadlines(30, 50);
    const a = deadlines.start();
    const b = deadlines.start();
    a.clear();
    a.clear();
    // b is still running: its window must still time it out.
    await sleep(120);
    expect(b.signal.aborted).toBe(true);
    b.clear();
  });
});
