/**
 * A database that hangs: connections stay open (or are accepted) but nothing ever comes back, as behind a network
 * partition or a stuck server. Requests must fail within the configured bound (DB_QUERY_TIMEOUT_MS for a query on an
 * open connection, DB_CONNECT_TIMEOUT_MS for a new connection or a free one from the pool) with 503 UNAVAILABLE and
 * Retry-After, instead of hanging; the app recovers by itself once the database answers again.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { Response, Test } from 'supertest';
import { bearer, createMember, createRoom, createUser, createWorld, PASSWORD, type World } from '../helpers/factories';
import type { TestApp } from '../helpers/test-app';
import { bootBehindProxy, type TcpProxy } from './tcp-proxy';

const QUERY_TIMEOUT_MS = 1000;
const CONNECT_TIMEOUT_MS = 1500;
/**
 * The worst case of one request: waiting for a pooled connection (at most the connect timeout, as long as the other
 * requests' queries take to time out), then one query that times out. Timers, not load, make up this bound, so
 * the slack for a busy machine is small.
 */
const BOUND_MS = CONNECT_TIMEOUT_MS + QUERY_TIMEOUT_MS + 1000;

describe('database that hangs', () => {
  let proxy: TcpProxy;
  let t: TestApp;
  let w: World;
  let email: string;
  let room: string;
  let qr: string;

  before(async () => {
    ({ t, proxy } = await bootBehindProxy({
      DB_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS),
      DB_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
      // Every request reads its session from the database (the guard's cache would hide the hang for 2 s).
      AUTH_CACHE_TTL_MS: '0',
    }));
    w = await createWorld(t);
    email = (await createUser(t)).email;
    room = await createRoom(t, w.event.id);
    qr = (await createMember(t, w.event.id)).qr;
  });
  after(async () => {
    await proxy?.stop();
    await proxy?.start().catch(() => undefined); // let the pool close cleanly whatever happened
    await t?.close();
    await proxy?.stop();
  });

  let seq = 0;
  const requests: Record<string, () => Test> = {
    profile: () => t.http.get('/api/auth/profile/').set(bearer(w.tokens.participant)),
    login: () => t.http.post('/api/auth/login/').send({ email, password: PASSWORD }),
    rooms: () => t.http.get('/api/rooms/').set(bearer(w.tokens.organisateur)),
    scan: () =>
      t.http
        .post(`/api/rooms/${room}/verify_access/`)
        .set(bearer(w.tokens.controlleur_des_badges))
        .send({ qr_data: qr, device_id: 'hang-door', nonce: `h${++seq}` }),
    sync: () =>
      t.http
        .post('/api/scans/sync/')
        .set(bearer(w.tokens.controlleur_des_badges))
        .send({
          device_id: 'hang-offline',
          scans: [
            {
              nonce: `s${++seq}`,
              qr_data: qr,
              room_id: room,
              direction: 'in',
              scanned_at: new Date(Date.now() - 60_000).toISOString(),
              local_decision: 'granted',
            },
          ],
        }),
  };

  async function timed(name: string, send: () => Test): Promise<{ name: string; ms: number; res: Response }> {
    const started = Date.now();
    const res = await send().timeout(60_000);
    return { name, ms: Date.now() - started, res };
  }

  it('serves through the proxy, then answers 503 within the configured bound while the database hangs', async () => {
    for (const [name, send] of Object.entries(requests)) {
      const res = await send();
      assert.equal(res.status, 200, `${name}: ${res.text}`);
    }
    // Fill the pool with open connections, which are about to go silent.
    await Promise.all(Array.from({ length: 10 }, () => requests.profile!()));

    proxy.freeze();
    // Every kind of request at once, then as many as the pool holds and more, twice (the first wave leaves the
    // pool's connections stuck behind unanswered queries).
    for (const wave of [1, 2]) {
      const answers = await Promise.all([
        ...Object.entries(requests).map(([name, send]) => timed(name, send)),
        ...Array.from({ length: 30 }, (_, i) => timed(`scan ${i}`, requests.scan!)),
      ]);
      const slowest = Math.max(...answers.map((a) => a.ms));
      process.stdout.write(`# wave ${wave}: ${answers.length} requests, all answered within ${slowest} ms\n`);
      for (const { name, ms, res } of answers) {
        assert.equal(res.status, 503, `${name}: ${res.text}`);
        assert.equal(res.body.code, 'UNAVAILABLE');
        assert.match(String(res.headers['retry-after']), /^[1-9]\d*$/);
        assert.ok(ms < BOUND_MS, `${name} took ${ms} ms (bound ${BOUND_MS} ms)`);
      }
    }
  });

  it('recovers without a restart once the database answers again', async () => {
    await proxy.stop(); // the hung connections are cut
    await proxy.start();
    for (let attempt = 0; ; attempt++) {
      const ready = await t.http.get('/health/ready');
      if (ready.status === 200) break;
      assert.ok(attempt < 40, ready.text);
      await sleep(250);
    }
    for (const [name, send] of Object.entries(requests)) {
      const res = await send();
      assert.equal(res.status, 200, `${name}: ${res.text}`);
    }
  });
});
