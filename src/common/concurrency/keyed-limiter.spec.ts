import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyedLimiter, LimiterFullError } from './keyed-limiter';

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

  it('refuses at once past `maxWaiting` waiting tasks of a key, without running them; other keys still wait', async () => {
    const limiter = new KeyedLimiter(1, 2);
    const ran: string[] = [];
    const task = (name: string) => async () => {
      ran.push(name);
      await tick();
      return name;
    };
    const accepted = ['k1', 'k2', 'k3'].map((n) => limiter.run('k', task(n)));
    await assert.rejects(limiter.run('k', task('k4')), (e: unknown) => e instanceof LimiterFullError && e.key === 'k');
    const other = limiter.run('o', task('o1'));
    assert.deepEqual(await Promise.all(accepted), ['k1', 'k2', 'k3']);
    assert.equal(await other, 'o1');
    assert.deepEqual(ran.sort(), ['k1', 'k2', 'k3', 'o1'], 'the refused task never ran');
    // Once the queue has drained, the key takes work again.
    assert.equal(await limiter.run('k', task('k5')), 'k5');
    assert.equal(limiter.size, 0);
  });

  it('without `maxWaiting`, any number waits (negative control of the bound)', async () => {
    const limiter = new KeyedLimiter(1);
    const all = Array.from({ length: 50 }, (_, i) => limiter.run('k', () => Promise.resolve(i)));
    assert.equal((await Promise.all(all)).length, 50);
  });
});
