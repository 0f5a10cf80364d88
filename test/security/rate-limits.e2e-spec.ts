import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { Response } from 'supertest';
import { RedisWindows, SyncedWindows } from '../../src/common/rate-limit/rate-limit.windows';
import { expectError } from '../helpers/assertions';
import { bearer, createMember, createRoom, createUser, createWorld, PASSWORD, type World } from '../helpers/factories';
import { freePort, sharedRedisEnv, startPair, testRedisUrl, type Instance } from '../helpers/instance';
import { startRedis } from '../helpers/redis-server';
import { fire, tally } from '../helpers/requests';
import { sleep } from '../helpers/sockets';
import { bootTestApp, type TestApp } from '../helpers/test-app';

/*
 * HTTP rate limits (README, "Configuration"): per account and per IP on login, per IP on refresh, per user on password
 * changes, per session on the API, the doors and lead scans; 429 RATE_LIMITED in the documented body with
 * Retry-After; the count shared by two instances through Redis and exact under parallel bursts; and a Redis outage,
 * under which door scans go on (local counts) while logins fail closed (503 UNAVAILABLE with Retry-After).
 * Windows are long (10m) so that no window ends during a test.
 */

/** A fresh key space in the shared Redis for each app, so that runs never share counts. */

/** 429 in the error body of API.md, with a Retry-After within the window. */
function expectLimited(res: Response, windowSec = 600): number {
  expectError(res, 429, 'RATE_LIMITED');
  const retryAfter = Number(res.headers['retry-after']);
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= windowSec, `Retry-After ${retryAfter}`);
  return retryAfter;
}

const login = (t: TestApp, email: string, password = 'wrong-password-1', path = '/api/auth/login/') =>
  t.http.post(path).send({ email, password });

describe('rate limits: login per account and per IP, refresh, password, API, doors, leads (Redis storage)', () => {
  let t: TestApp;
  let w: World;

  before(async () => {
    t = await bootTestApp({
      ...sharedRedisEnv(),
      RATE_LIMIT_LOGIN_ACCOUNT: '3/10m',
      RATE_LIMIT_LOGIN_IP: '12/10m', // password changes count here too
      RATE_LIMIT_REFRESH_IP: '2/10m',
      RATE_LIMIT_PASSWORD: '2/10m',
      RATE_LIMIT_API_TOKEN: '4/10m',
      RATE_LIMIT_DOOR: '5/10m',
      RATE_LIMIT_LEADS: '3/10m',
    });
    w = await createWorld(t);
  });
  after(() => t.close());

  it('login: 3 attempts per account, then 429 for that account (any spelling of the email, login/ and token/ alike)', async () => {
    const user = await createUser(t);
    for (let i = 0; i < 3; i++) expectError(await login(t, user.email), 401, 'INVALID_CREDENTIALS');
    // Even the right password, through the alias, with another spelling of the same email.
    expectLimited(await login(t, `  ${user.email.toUpperCase()} `, PASSWORD, '/api/auth/token/'));
    // Another account from the same IP is not limited.
    const other = await createUser(t);
    assert.equal((await login(t, other.email, PASSWORD)).status, 200);
  });

  it('token refresh: 2 per IP, then 429', async () => {
    for (let i = 0; i < 2; i++) {
      expectError(await t.http.post('/api/auth/token/refresh/').send({ refresh: 'not-a-token' }), 401, 'TOKEN_INVALID');
    }
    expectLimited(await t.http.post('/api/auth/token/refresh/').send({ refresh: 'not-a-token' }));
  });

  it('general limit per session (not per IP): a 5th request of one session is refused, another session goes on', async () => {
    const a = await createMember(t, w.event.id);
    const b = await createMember(t, w.event.id);
    for (let i = 0; i < 4; i++) assert.equal((await t.http.get('/api/auth/me/').set(bearer(a.token))).status, 200);
    expectLimited(await t.http.get('/api/auth/my-events/').set(bearer(a.token)));
    assert.equal((await t.http.get('/api/auth/me/').set(bearer(b.token))).status, 200);
  });

  it('password change: 2 per user, then 429', async () => {
    const m = await createMember(t, w.event.id);
    const change = () =>
      t.http
        .post('/api/auth/change-password/')
        .set(bearer(m.token))
        .send({ old_password: 'not-the-password', new_password: 'another-password-1' });
    for (let i = 0; i < 2; i++) expectError(await change(), 400, 'VALIDATION_FAILED');
    expectLimited(await change());
  });

  it('door scans: 5 per scanning session (its own limit, not the general one), then 429; another device goes on', async () => {
    const room = await createRoom(t, w.event.id);
    const visitor = await createMember(t, w.event.id);
    const [a, b] = [
      await createMember(t, w.event.id, 'controlleur_des_badges'),
      await createMember(t, w.event.id, 'controlleur_des_badges'),
    ];
    const scan = (token: string) =>
      t.http.post(`/api/rooms/${room}/verify_access/`).set(bearer(token)).send({ qr_data: visitor.qr });
    for (let i = 0; i < 5; i++) assert.equal((await scan(a.token)).status, 200);
    expectLimited(
      await t.http.post('/api/qr/verify/').set(bearer(a.token)).send({ room_id: room, qr_data: visitor.qr }),
    );
    assert.equal((await scan(b.token)).status, 200);
  });

  it('lead scans: 3 per exhibitor session, then 429', async () => {
    const exhibitor = await createMember(t, w.event.id, 'exposant');
    const visitor = await createMember(t, w.event.id);
    for (let i = 0; i < 3; i++) {
      const res = await t.http.post('/api/exposant/scan/').set(bearer(exhibitor.token)).send({ qr_data: visitor.qr });
      assert.ok([200, 201].includes(res.status), res.text);
    }
    expectLimited(
      await t.http
        .post('/api/exposant-scans/scan_participant/')
        .set(bearer(exhibitor.token))
        .send({ qr_data: visitor.qr }),
    );
  });

  it('login: per IP across accounts, then 429 for every account (last: the tests above counted in this window)', async () => {
    // Above, from 127.0.0.1: 5 login attempts (4 on one account, 1 on another) and 3 password changes.
    const before = 8;
    for (let i = before; i < 12; i++) {
      expectError(await login(t, `nobody-${randomUUID()}@example.test`), 401, 'INVALID_CREDENTIALS');
    }
    expectLimited(await login(t, `nobody-${randomUUID()}@example.test`));
    // register/ counts in the same per-IP window.
    const res = await t.http
      .post('/api/auth/register/')
      .send({ email: `new-${randomUUID()}@example.test`, password: PASSWORD, first_name: 'A', last_name: 'B' });
    expectLimited(res);
  });

  it('health probes are never limited', async () => {
    for (let i = 0; i < 20; i++) assert.equal((await t.http.get('/health/live')).status, 200);
  });
});

describe('rate limits: exact under parallel bursts, shared by two instances through Redis', () => {
  const LIMIT = 8;
  let t: TestApp;
  let other: Instance;
  let close: () => Promise<void>;

  before(async () => {
    const env = { ...sharedRedisEnv(), RATE_LIMIT_LOGIN_ACCOUNT: `${LIMIT}/10m`, RATE_LIMIT_LEADS: `${LIMIT}/10m` };
    ({ a: t, b: other, close } = await startPair(env));
  });
  after(() => close());

  const loginOther = (email: string) =>
    fetch(`http://127.0.0.1:${other.port}/api/auth/login/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: 'wrong-password-1' }),
    });

  it('the per-account count is shared: attempts on one instance count on the other', async () => {
    const user = await createUser(t);
    for (let i = 0; i < LIMIT / 2; i++) expectError(await login(t, user.email), 401, 'INVALID_CREDENTIALS');
    for (let i = 0; i < LIMIT / 2; i++) assert.equal((await loginOther(user.email)).status, 401);
    expectLimited(await login(t, user.email));
    const refused = await loginOther(user.email);
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    assert.equal(((await refused.json()) as { code: string }).code, 'RATE_LIMITED');
  });

  it(`${LIMIT + 10} parallel attempts on one account over two instances: exactly ${LIMIT} pass`, async () => {
    const user = await createUser(t);
    const statuses = await Promise.all(
      Array.from({ length: LIMIT + 10 }, (_, i) =>
        i % 2 === 0 ? login(t, user.email).then((r) => r.status) : loginOther(user.email).then((r) => r.status),
      ),
    );
    assert.deepEqual(tally(statuses.map((status) => ({ status }) as Response)), { 401: LIMIT, 429: 10 });
  });

  it(`${LIMIT + 10} parallel lead scans of one exhibitor: exactly ${LIMIT} pass`, async () => {
    const w = await createWorld(t);
    const visitors = await Promise.all(Array.from({ length: 3 }, () => createMember(t, w.event.id)));
    const responses = await Promise.all(
      Array.from({ length: LIMIT + 10 }, (_, i) =>
        fire(
          t.http
            .post('/api/exposant/scan/')
            .set(bearer(w.tokens.exposant))
            .send({ qr_data: visitors[i % 3]?.qr }),
        ),
      ),
    );
    const counts = tally(responses);
    assert.equal((counts[200] ?? 0) + (counts[201] ?? 0), LIMIT, JSON.stringify(counts));
    assert.equal(counts[429], 10, JSON.stringify(counts));
  });
});

describe('rate limits: a Redis outage', () => {
  let t: TestApp;
  let w: World;
  let redis: ChildProcess;
  let port: number;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  before(async () => {
    process.on('unhandledRejection', onUnhandled);
    port = await freePort();
    redis = await startRedis(port);
    t = await bootTestApp({
      REDIS_URL: `redis://127.0.0.1:${port}`,
      REDIS_PREFIX: `test-rl-${randomUUID()}`,
      RATE_LIMIT_DOOR: '8/10m',
      RATE_LIMIT_SYNC_MS: '50',
    });
    w = await createWorld(t);
  });
  after(async () => {
    process.off('unhandledRejection', onUnhandled);
    await t.close();
    redis.kill('SIGKILL');
  });

  it('doors keep answering (and limiting, with local counts) while logins fail closed; all recover with Redis', async () => {
    const room = await createRoom(t, w.event.id);
    const visitor = await createMember(t, w.event.id);
    const user = await createUser(t);
    const scan = () =>
      t.http.post(`/api/rooms/${room}/verify_access/`).set(bearer(w.tokens.controlleur_des_badges)).send({
        qr_data: visitor.qr,
      });
    for (let i = 0; i < 2; i++) assert.equal((await scan()).status, 200);
    assert.equal((await login(t, user.email, PASSWORD)).status, 200);
    await sleep(150); // the door counts reach Redis

    redis.kill('SIGKILL');
    await sleep(300);
    // Login: 503 UNAVAILABLE with Retry-After, in the documented body, fast.
    const started = Date.now();
    const refused = await login(t, user.email, PASSWORD);
    expectError(refused, 503, 'UNAVAILABLE');
    assert.ok(Number(refused.headers['retry-after']) >= 1);
    assert.ok(Date.now() - started < 2000, 'fails fast, no hanging on Redis');
    // Doors: 6 more scans answered (8 in the window), the 9th limited by the local count.
    for (let i = 0; i < 6; i++) assert.equal((await scan()).status, 200);
    expectLimited(await scan());
    // Other routes go on with local counts.
    assert.equal((await t.http.get('/api/auth/me/').set(bearer(w.tokens.participant))).status, 200);

    redis = await startRedis(port);
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = (await login(t, user.email, PASSWORD)).status;
      if (status !== 200) await sleep(200);
    }
    assert.equal(status, 200, 'logins work again once Redis is back, without a restart');
    assert.deepEqual(unhandled, [], 'no unhandled rejection');
  });
});

describe('rate limits: without Redis (one instance, counted in process)', () => {
  let t: TestApp;

  before(async () => {
    t = await bootTestApp({ RATE_LIMIT_LOGIN_ACCOUNT: '5/10m' });
  });
  after(() => t.close());

  it('15 parallel attempts on one account: exactly 5 pass', async () => {
    const user = await createUser(t);
    const responses = await Promise.all(Array.from({ length: 15 }, () => fire(login(t, user.email))));
    assert.deepEqual(tally(responses), { 401: 5, 429: 10 });
    expectLimited(responses.find((r) => r.status === 429) as Response);
  });
});

describe('rate limits: the counts in Redis (atomic with a negative control; in memory then added up)', () => {
  let redis: Redis;
  before(() => {
    redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 0 });
  });
  after(() => redis.quit());

  it('30 parallel hits on one key get the counts 1..30, each once: a limit of N lets exactly N through', async () => {
    const windows = new RedisWindows(redis);
    const key = `test-rl-${randomUUID()}`;
    const counts = await Promise.all(Array.from({ length: 30 }, () => windows.hit(key, 60_000)));
    assert.deepEqual(
      counts.map((c) => c.hits).sort((a, b) => a - b),
      Array.from({ length: 30 }, (_, i) => i + 1),
    );
    assert.ok(counts.every((c) => c.msLeft > 0 && c.msLeft <= 60_000));
    assert.ok((await redis.pttl(key)) > 0, 'the key expires with its window');
  });

  it('negative control: a read-then-write count (GET, then SET) under the same burst lets far more through', async () => {
    const key = `test-rl-${randomUUID()}`;
    const naive = async () => {
      const hits = Number((await redis.get(key)) ?? 0) + 1;
      await redis.set(key, hits, 'PX', 60_000);
      return hits;
    };
    const counts = await Promise.all(Array.from({ length: 30 }, naive));
    assert.ok(counts.filter((hits) => hits <= 8).length > 8, `naive counts: ${counts.join(',')}`);
  });

  it('what one instance counted is seen by the other after a flush; a failed flush keeps the counts', async () => {
    const errors: Error[] = [];
    const [a, b] = [new SyncedWindows(redis, (e) => errors.push(e)), new SyncedWindows(redis, (e) => errors.push(e))];
    const key = `test-rl-${randomUUID()}`;
    for (let i = 0; i < 5; i++) a.hit(key, 60_000);
    assert.equal(b.hit(key, 60_000).hits, 1, 'no I/O per hit: B does not know yet');
    await a.flush();
    await b.flush();
    assert.equal(Number(await redis.get(key)), 6);
    assert.equal(b.hit(key, 60_000).hits, 7, 'B now counts A too (its flush returned the shared total)');
    assert.equal(a.hit(key, 60_000).hits, 6, 'A learns at its next flush');
    await a.flush();
    assert.equal(a.hit(key, 60_000).hits, 8, 'A now counts B too');
    assert.equal(errors.length, 0);

    const offline = new Redis(testRedisUrl(), {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
    });
    const c = new SyncedWindows(offline, (e) => errors.push(e));
    for (let i = 0; i < 3; i++) c.hit(key, 60_000);
    await c.flush();
    assert.equal(errors.length, 1, 'the failed flush is reported, not thrown');
    assert.equal(c.hit(key, 60_000).hits, 4, 'and its counts are kept (a local limiter)');
    offline.disconnect();
  });
});
