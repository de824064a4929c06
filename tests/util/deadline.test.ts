import { describe, expect, it } from 'vitest';
import { deadline } from '../../lib/util/deadline.js';

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
