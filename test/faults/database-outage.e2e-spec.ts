/**
 * "Database down → 503 with Retry-After, then recovery without restart". The app reaches PostgreSQL through a TCP
 * proxy owned by the test: stopping the proxy (and cutting its open connections) is the outage, starting it again on
 * the same port is the recovery. The app itself is never restarted.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { Response } from 'supertest';
import { bearer, createUser, createWorld, PASSWORD, type World } from '../helpers/factories';
import type { TestApp } from '../helpers/test-app';
import { bootBehindProxy, type TcpProxy } from './tcp-proxy';

const RETRY_AFTER = /^[1-9]\d*$/;

function assertUnavailable(res: Response): void {
  assert.equal(res.status, 503, res.text);
  assert.match(String(res.headers['retry-after']), RETRY_AFTER);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  assert.deepEqual(Object.keys(res.body as object).sort(), ['code', 'detail', 'request_id', 'status_code']);
  assert.equal(res.body.status_code, 503);
  assert.equal(res.body.code, 'UNAVAILABLE');
  assert.equal(typeof res.body.detail, 'string');
  assert.doesNotMatch(res.text, /\bat \S+ \(|ECONNREFUSED|127\.0\.0\.1|postgres/i);
  assert.equal(res.body.request_id, res.headers['x-request-id']);
}

describe('database outage', () => {
  let proxy: TcpProxy;
  let t: TestApp;
  let world: World;
  let email: string;

  before(async () => {
    ({ t, proxy } = await bootBehindProxy());
    world = await createWorld(t);
    email = (await createUser(t)).email;
  });
  after(async () => {
    await proxy?.start().catch(() => undefined); // let the pool close cleanly whatever happened
    await t?.close();
    await proxy?.stop();
  });

  const profile = () => t.http.get('/api/auth/profile').set(bearer(world.tokens.participant));
  const login = () => t.http.post('/api/auth/login').send({ email, password: PASSWORD });

  it('serves normally through the proxy', async () => {
    await t.http.get('/health/ready').expect(200);
    assert.equal((await profile()).status, 200);
    const res = await login();
    assert.equal(res.status, 200, res.text);
    assert.equal(typeof res.body.access, 'string');
  });

  it('answers 503 UNAVAILABLE with Retry-After while the database is down, quickly', async () => {
    await proxy.stop();
    const started = Date.now();

    assertUnavailable(await profile());
    assertUnavailable(await login());
    assertUnavailable(await t.http.get('/api/user-assignments').set(bearer(world.tokens.organisateur)));

    const ready = await t.http.get('/health/ready');
    assert.equal(ready.status, 503);
    assert.match(String(ready.headers['retry-after']), RETRY_AFTER);
    assert.equal(ready.body.status, 'error');
    assert.equal(ready.body.checks.database, 'down');

    const live = await t.http.get('/health/live');
    assert.equal(live.status, 200);
    assert.deepEqual(live.body, { status: 'ok' });

    // Refused connections fail at once: no request waited for the 5 s connection timeout.
    assert.ok(Date.now() - started < 5000, `outage answers took ${Date.now() - started} ms`);

    // Auth is still checked first: no token is a 401, not a 503.
    const anonymous = await t.http.get('/api/auth/profile');
    assert.equal(anonymous.status, 401);
  });

  it('recovers without a restart once the database is back', async () => {
    await proxy.start(); // same port: the app's pool reconnects by itself
    await assertRecovered();
  });

  it('reports not ready within seconds when the database hangs instead of refusing', async () => {
    assert.equal((await profile()).status, 200); // leaves idle connections in the pool, which will go silent
    proxy.freeze();
    const started = Date.now();
    const ready = await t.http.get('/health/ready').timeout(15_000);
    assert.equal(ready.status, 503, ready.text);
    assert.equal(ready.body.checks.database, 'down');
    assert.match(String(ready.headers['retry-after']), RETRY_AFTER);
    assert.ok(Date.now() - started < 6000, `readiness took ${Date.now() - started} ms`);
    assert.equal((await t.http.get('/health/live')).status, 200);

    // The hung database crashes for good: the stuck connections are cut, then it comes back.
    await proxy.stop();
    await proxy.start();
    await assertRecovered();
  });

  async function assertRecovered(): Promise<void> {
    let ready: Response | undefined;
    for (let attempt = 0; attempt < 20; attempt++) {
      ready = await t.http.get('/health/ready');
      if (ready.status === 200) break;
      await sleep(250);
    }
    assert.equal(ready?.status, 200, ready?.text);
    assert.deepEqual(ready?.body, { status: 'ok', checks: { database: 'up', migrations: 'up' } });

    assert.equal((await profile()).status, 200);
    const res = await login();
    assert.equal(res.status, 200, res.text);
    assert.equal(typeof res.body.access, 'string');
    const again = await t.http.get('/api/auth/profile').set(bearer(res.body.access as string));
    assert.equal(again.status, 200);
  }
});
