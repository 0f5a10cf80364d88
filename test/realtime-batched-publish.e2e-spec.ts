import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { batchPublishes } from '../src/realtime/batched-publish';
import { freePort, testRedisUrl } from './helpers/instance';

/*
 * The Redis adapter's publisher (batched-publish.ts), against the suite's Redis: the publishes of one turn of the
 * event loop leave as one pipeline, in order; a failure answers 0 and is told, never rejected.
 */

const turn = () => new Promise((r) => setImmediate(r));

describe('publishes batched per turn of the event loop', () => {
  let pub: Redis;
  let sub: Redis;
  let pipelines = 0;
  const channel = `test-${randomUUID()}`;
  const received: string[] = [];
  const errors: Error[] = [];

  before(async () => {
    pub = new Redis(testRedisUrl(), { enableOfflineQueue: false, lazyConnect: true });
    sub = new Redis(testRedisUrl());
    await pub.connect();
    const pipeline = pub.pipeline.bind(pub);
    Object.assign(pub, {
      pipeline: (...args: Parameters<typeof pipeline>) => {
        pipelines += 1;
        return pipeline(...args);
      },
    });
    batchPublishes(pub, (error) => errors.push(error));
    sub.on('message', (_channel: string, message: string) => received.push(message));
    await sub.subscribe(channel);
  });
  after(async () => {
    await Promise.all([pub.quit(), sub.quit()]);
  });

  const heard = async (count: number) => {
    for (let i = 0; i < 100 && received.length < count; i++) await new Promise((r) => setTimeout(r, 10));
  };

  it('100 publishes made in one turn: one pipeline, every message once and in order, each answered', async () => {
    received.length = 0;
    pipelines = 0;
    const messages = Array.from({ length: 100 }, (_, i) => `m${i}`);
    const answers = await Promise.all(messages.map((m) => pub.publish(channel, m)));
    await heard(100);
    assert.deepEqual(received, messages);
    assert.deepEqual(
      answers,
      messages.map(() => 1),
      'each publish answers its receivers (one subscriber)',
    );
    assert.equal(pipelines, 1);
    assert.deepEqual(errors, []);
  });

  it('negative control: publishes made in three turns go in three pipelines, still in order', async () => {
    received.length = 0;
    pipelines = 0;
    const answers: Promise<number>[] = [];
    for (const m of ['a', 'b', 'c']) {
      answers.push(pub.publish(channel, m));
      await turn();
    }
    await Promise.all(answers);
    await heard(3);
    assert.deepEqual(received, ['a', 'b', 'c']);
    assert.equal(pipelines, 3);
  });

  it('with Redis away, a publish answers 0 and the failure is told once per pipeline; nothing rejects', async () => {
    const away = new Redis(`redis://127.0.0.1:${await freePort()}`, {
      enableOfflineQueue: false,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    const told: Error[] = [];
    batchPublishes(away, (error) => told.push(error));
    const answers = await Promise.all([away.publish('x', '1'), away.publish('x', '2')]);
    assert.deepEqual(answers, [0, 0]);
    assert.equal(told.length, 1);
    away.disconnect();
  });
});
