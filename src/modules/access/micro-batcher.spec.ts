import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MicroBatcher, type MicroBatcherOptions } from './micro-batcher';

/** A database stand-in: every batch waits until the test lets it answer. */
function harness(overrides: Partial<MicroBatcherOptions<number, string>> = {}) {
  const batches: number[][] = [];
  const release: (() => void)[] = [];
  const batcher = new MicroBatcher<number, string>({
    run: (items) => {
      batches.push(items);
      return new Promise((resolve) => release.push(() => resolve(items.map((i) => `answer ${i}`))));
    },
    retryAlone: () => true,
    maxBatch: 3,
    maxInFlight: 2,
    ...overrides,
  });
  const tick = () => new Promise((r) => setImmediate(r));
  return { batcher, batches, release, tick };
}

describe('MicroBatcher', () => {
  it('sends a call at once while fewer batches than the limit are out, and queues the rest into the next batches', async () => {
    const { batcher, batches, release, tick } = harness();
    const answers = [1, 2, 3, 4, 5, 6, 7, 8].map((i) => batcher.submit(i));
    await tick();
    // Two in flight (1 and 2 went alone, at once); 3..8 wait.
    assert.deepEqual(batches, [[1], [2]]);
    release.shift()?.();
    await tick();
    // One came back: the next batch takes what queued meanwhile, at most maxBatch, in arrival order.
    assert.deepEqual(batches, [[1], [2], [3, 4, 5]]);
    while (release.length > 0) {
      release.shift()?.();
      await tick();
    }
    assert.deepEqual(batches, [[1], [2], [3, 4, 5], [6, 7, 8]]);
    // Each caller gets the answer of its own item.
    assert.deepEqual(
      await Promise.all(answers),
      [1, 2, 3, 4, 5, 6, 7, 8].map((i) => `answer ${i}`),
    );
  });

  it('when a batch fails in the database, tries each item alone: one bad item fails alone', async () => {
    const batches: number[][] = [];
    const failing = new MicroBatcher<number, string>({
      run: (items) => {
        batches.push(items);
        if (items.length > 1 || items[0] === 1)
          return Promise.reject(Object.assign(new Error('boom'), { code: '22P02' }));
        return items[0] === 13 ? Promise.reject(new Error('bad item')) : Promise.resolve([`alone ${items[0]}`]);
      },
      retryAlone: (e) => (e as { code?: string }).code === '22P02',
      maxBatch: 10,
      maxInFlight: 1,
    });
    const first = failing.submit(1); // goes alone, at once
    const rest = [12, 13, 14].map((i) => failing.submit(i)); // queued: one batch of three
    await assert.rejects(first, /boom/); // a batch of one is not tried again
    const settled = await Promise.allSettled(rest);
    assert.deepEqual(
      settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message)),
      ['alone 12', 'bad item', 'alone 14'],
    );
    assert.deepEqual(batches, [[1], [12, 13, 14], [12], [13], [14]]);
    assert.equal(failing.failedBatches, 1);
  });

  /** Submits three calls to a batcher that never tries alone; tells how they settled and how many batches ran. */
  const threeCallsWithoutRetry = async (run: (items: number[]) => Promise<string[]>) => {
    let batches = 0;
    const batcher = new MicroBatcher<number, string>({
      run: (items) => {
        batches += 1;
        return run(items);
      },
      retryAlone: () => false,
      maxBatch: 10,
      maxInFlight: 1,
    });
    const settled = await Promise.allSettled([1, 2, 3].map((i) => batcher.submit(i)));
    return { allRejected: settled.every((s) => s.status === 'rejected'), batches };
  };

  it('does not try again when the failure may have committed (retryAlone says no): every caller gets the error', async () => {
    const outcome = await threeCallsWithoutRetry(() => Promise.reject(new Error('Connection terminated unexpectedly')));
    // [1] at once, then [2, 3]; nothing again.
    assert.deepEqual(outcome, { allRejected: true, batches: 2 });
  });

  it('refuses a batch answered with the wrong number of answers instead of handing out misplaced ones', async () => {
    const outcome = await threeCallsWithoutRetry((items) => Promise.resolve(items.slice(1).map(String)));
    assert.deepEqual(outcome, { allRejected: true, batches: 2 });
  });
  it('runInOrder: batches one after the other, never two at once, answers in order', async () => {
    let running = 0;
    let most = 0;
    const batches: number[][] = [];
    const batcher = new MicroBatcher<number, string>({
      run: async (items) => {
        batches.push(items);
        running += 1;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 5));
        running -= 1;
        return items.map((i) => `answer ${i}`);
      },
      retryAlone: () => true,
      maxBatch: 3,
      maxInFlight: 2,
    });
    const answers = await batcher.runInOrder([1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(batches, [[1, 2, 3], [4, 5, 6], [7]]);
    assert.equal(most, 1);
    assert.deepEqual(
      answers,
      [1, 2, 3, 4, 5, 6, 7].map((i) => `answer ${i}`),
    );
  });

  it('runInOrder: a failed batch goes again one item at a time, in order; the first item that still fails stops the run', async () => {
    const batches: number[][] = [];
    const batcher = new MicroBatcher<number, string>({
      run: (items) => {
        batches.push(items);
        if (items.length > 1 && items.includes(5))
          return Promise.reject(Object.assign(new Error('boom'), { code: '40P01' }));
        if (items[0] === 5) return Promise.reject(Object.assign(new Error('bad item'), { code: '22P02' }));
        return Promise.resolve(items.map((i) => `answer ${i}`));
      },
      retryAlone: (e) => typeof (e as { code?: string }).code === 'string',
      maxBatch: 3,
      maxInFlight: 2,
    });
    await assert.rejects(batcher.runInOrder([1, 2, 3, 4, 5, 6, 7, 8]), /bad item/);
    // 1..3 as one batch; 4..6 failed, then 4 alone, 5 alone (fails); 6, 7 and 8 never ran.
    assert.deepEqual(batches, [[1, 2, 3], [4, 5, 6], [4], [5]]);
    assert.equal(batcher.failedBatches, 1);
    // Negative control: without the bad item the same run answers everything.
    batches.length = 0;
    assert.equal((await batcher.runInOrder([1, 2, 3, 4, 6, 7, 8])).length, 7);
    assert.deepEqual(batches, [[1, 2, 3], [4, 6, 7], [8]]);
  });
  it('runInOrder: each result is handed over when its batch is answered; a throw there stops the run after that batch', async () => {
    const batches: number[][] = [];
    const seen: string[] = [];
    const batcher = new MicroBatcher<number, string>({
      run: (items) => {
        batches.push(items);
        seen.push(`batch ${items.join(',')}`);
        return Promise.resolve(items.map((i) => `answer ${i}`));
      },
      retryAlone: () => true,
      maxBatch: 2,
      maxInFlight: 2,
    });
    const run = batcher.runInOrder([1, 2, 3, 4, 5, 6], (result, index) => {
      seen.push(`${index}: ${result}`);
      if (result === 'answer 3') throw new Error('refused first');
      if (result === 'answer 4') throw new Error('refused second');
    });
    await assert.rejects(run, /refused first/, 'the first refusal of the batch is the one thrown');
    // Each answer before the next batch went out. The rest of the batch whose answer was refused is done as well, so
    // it is still handed over (answer 4); nothing after that batch.
    assert.deepEqual(seen, ['batch 1,2', '0: answer 1', '1: answer 2', 'batch 3,4', '2: answer 3', '3: answer 4']);
    assert.deepEqual(batches, [
      [1, 2],
      [3, 4],
    ]);
  });
  it('runInOrder: concurrent runs share one lane, a batch at a time, taking turns; the queue is not held up', async () => {
    let running = 0;
    let most = 0;
    const batches: string[][] = [];
    const batcher = new MicroBatcher<string, string>({
      run: async (items) => {
        batches.push(items);
        running += items[0]!.startsWith('live') ? 0 : 1;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 5));
        running -= items[0]!.startsWith('live') ? 0 : 1;
        return items;
      },
      retryAlone: () => true,
      maxBatch: 10,
      maxInFlight: 2,
      orderedBatch: 2,
    });
    const a = batcher.runInOrder(['a1', 'a2', 'a3', 'a4']);
    const b = batcher.runInOrder(['b1', 'b2', 'b3', 'b4']);
    const live = batcher.submit('live'); // the queue goes out at once, beside the lane
    assert.equal(await live, 'live');
    assert.deepEqual(await Promise.all([a, b]), [
      ['a1', 'a2', 'a3', 'a4'],
      ['b1', 'b2', 'b3', 'b4'],
    ]);
    assert.equal(most, 1, 'never two ordered batches at once');
    assert.deepEqual(
      batches.filter((x) => x[0] !== 'live'),
      [
        ['a1', 'a2'],
        ['b1', 'b2'],
        ['a3', 'a4'],
        ['b3', 'b4'],
      ],
    );
    assert.ok(batches.findIndex((x) => x[0] === 'live') < 2, 'the live scan did not wait for the lane');
  });
});
