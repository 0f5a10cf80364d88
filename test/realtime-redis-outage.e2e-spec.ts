import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { bearer, createRoom, createSession, createWorld, type World } from './helpers/factories';
import { freePort } from './helpers/instance';
import { startRedis } from './helpers/redis-server';
import { closeAllClients, connect, recorder, sleep } from './helpers/sockets';
import { bootTestApp, type TestApp } from './helpers/test-app';

/*
 * Redis going away under an instance that uses it for the socket.io adapter: the instance keeps serving HTTP and its
 * own sockets (broadcasts stay local until Redis is back; a failed publish must not become an unhandled rejection,
 * which stops a Node process), and broadcasts reach the other instance again when Redis returns, without a restart.
 * This file runs a private redis-server so that it can stop it.
 */

describe('Redis outage under an instance', () => {
  let t: TestApp;
  let other: TestApp;
  let w: World;
  let redis: ChildProcess;
  let port: number;

  before(async () => {
    port = await freePort();
    redis = await startRedis(port);
    const env = { REDIS_URL: `redis://127.0.0.1:${port}`, REDIS_PREFIX: `test-${randomUUID()}` };
    [t, other] = await Promise.all([bootTestApp(env), bootTestApp(env)]);
    w = await createWorld(t);
  });
  after(async () => {
    closeAllClients();
    await Promise.all([t.close(), other.close()]);
    redis.kill('SIGKILL');
  });

  it('keeps serving and broadcasting to its own sockets while Redis is down, and after it is back', async () => {
    const room = await createRoom(t, w.event.id);
    const session = await createSession(t, w.event.id, room);
    const socket = await connect(t, w.tokens.participant);
    const updates = recorder(socket, 'sessionUpdated');
    // A socket on the other instance: it hears A's broadcasts through Redis only.
    const remote = recorder(await connect(other, w.tokens.exposant), 'sessionUpdated');
    const patch = (title: string) =>
      t.http.patch(`/api/sessions/${session}/`).set(bearer(w.tokens.organisateur)).send({ title });

    assert.equal((await patch('before')).status, 200);
    await updates.next((u) => (u.session as { title: string }).title === 'before');
    await remote.next((u) => (u.session as { title: string }).title === 'before');

    redis.kill('SIGKILL');
    await sleep(300);
    for (const title of ['down 1', 'down 2']) {
      assert.equal((await patch(title)).status, 200);
      await updates.next((u) => (u.session as { title: string }).title === title);
    }
    await sleep(1500); // long enough for a rejected publish to surface as an unhandled rejection
    assert.equal((await t.http.get('/api/auth/profile/').set(bearer(w.tokens.participant))).status, 200);

    redis = await startRedis(port);
    await sleep(1500);
    assert.equal((await patch('back')).status, 200);
    await updates.next((u) => (u.session as { title: string }).title === 'back');
    // Through Redis again, without a restart of either instance.
    await remote.next((u) => (u.session as { title: string }).title === 'back', 5000);
  });
});
