import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyedQueue } from './room-queue';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('KeyedQueue', () => {
  it('runs one task per key at a time, in order, and different keys side by side', async () => {
    const queue = new KeyedQueue();
    const running = new Map<string, number>();
    let maxSameKey = 0;
    let maxOverall = 0;
    const order: string[] = [];
    const task = (key: string, n: number) => async () => {
      running.set(key, (running.get(key) ?? 0) + 1);
      maxSameKey = Math.max(maxSameKey, running.get(key) ?? 0);
      maxOverall = Math.max(
        maxOverall,
        [...running.values()].reduce((a, b) => a + b, 0),
      );
      await tick(5);
      order.push(`${key}${n}`);
      running.set(key, (running.get(key) ?? 0) - 1);
      return n;
    };
    const results = await Promise.all([
      queue.run('a', task('a', 1)),
      queue.run('a', task('a', 2)),
      queue.run('b', task('b', 1)),
      queue.run('a', task('a', 3)),
    ]);
    assert.deepEqual(results, [1, 2, 1, 3]);
    assert.equal(maxSameKey, 1, 'never two tasks of one key at once');
    assert.equal(maxOverall, 2, 'keys run side by side');
    assert.deepEqual(
      order.filter((o) => o.startsWith('a')),
      ['a1', 'a2', 'a3'],
    );
  });

  it('a failing task fails alone; the next one of its key still runs', async () => {
    const queue = new KeyedQueue();
    const failed = queue.run('a', () => Promise.reject(new Error('boom')));
    const next = queue.run('a', () => Promise.resolve('ok'));
    await assert.rejects(failed, /boom/);
    assert.equal(await next, 'ok');
  });
});
