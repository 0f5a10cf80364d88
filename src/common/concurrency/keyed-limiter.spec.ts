import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyedLimiter } from './keyed-limiter';

const tick = () => new Promise((r) => setTimeout(r, 2));

describe('KeyedLimiter', () => {
  it('runs at most `limit` tasks per key, the rest in arrival order; other keys are not held up', async () => {
    const limiter = new KeyedLimiter(2);
    let running = 0;
    let most = 0;
    const started: string[] = [];
    const task = (name: string) => async () => {
      started.push(name);
      running += 1;
      most = Math.max(most, running);
      await tick();
      running -= 1;
      return name;
    };
    const a = ['a1', 'a2', 'a3', 'a4', 'a5'].map((n) => limiter.run('a', task(n)));
    const b = limiter.run('b', task('b1'));
    assert.deepEqual(started, ['a1', 'a2', 'b1'], 'two of key a at once, b at once');
    assert.deepEqual(await Promise.all(a), ['a1', 'a2', 'a3', 'a4', 'a5']);
    assert.equal(await b, 'b1');
    assert.deepEqual(started.slice(3), ['a3', 'a4', 'a5']);
    assert.equal(most, 3);
    assert.equal(limiter.size, 0, 'idle keys are forgotten');
  });

  it('a failing task frees its slot and its error reaches its caller only', async () => {
    const limiter = new KeyedLimiter(1);
    const failing = limiter.run('k', () => Promise.reject(new Error('boom')));
    const next = limiter.run('k', () => Promise.resolve('next'));
    await assert.rejects(failing, /boom/);
    assert.equal(await next, 'next');
    assert.equal(limiter.size, 0);
  });
});
