import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { runLocked } from '../../lib/scheduling/locked-task.js';
import { createRedis } from '../../lib/redis.js';

const redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
afterAll(() => redis.disconnect());

describe('runLocked', () => {
  it('runs a tick on exactly one of several competing schedulers', async () => {
    const name = `test-${randomUUID()}`;
    let runs = 0;
    const task = async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 50));
    };
    const won = await Promise.all(Array.from({ length: 5 }, () => runLocked(redis, name, 5_000, task)));
    expect(won.filter(Boolean)).toHaveLength(1);
    expect(runs).toBe(1);
  });

  it('releases the lock after the task, even when it throws', async () => {
    const name = `test-${randomUUID()}`;
    await expect(runLocked(redis, name, 5_000, async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(await runLocked(redis, name, 5_000, async () => {})).toBe(true);
  });

  it('lets the lock expire when its holder dies mid-task', async () => {
    const name = `test-${randomUUID()}`;
    await redis.set(`herald:lock:${name}`, 'crashed-holder', 'PX', 100);
    expect(await runLocked(redis, name, 5_000, async () => {})).toBe(false);
    await new Promise((r) => setTimeout(r, 150));
    expect(await runLocked(redis, name, 5_000, async () => {})).toBe(true);
  });
});
