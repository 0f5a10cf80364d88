import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { bearer, createWorld, type World } from './helpers/factories';
import { startInstance, testRedisUrl, type Instance } from './helpers/instance';
import { closeAllClients, connect, sleep } from './helpers/sockets';
import { bootTestApp, testDatabaseUrl, type TestApp } from './helpers/test-app';

/**
 * Graceful shutdown of a real process (`node dist/src/main.js`). The slow request is a PATCH of the test's own event
 * while the test holds that row's lock in an open transaction: it runs exactly as long as the test decides.
 */
describe('graceful shutdown (SIGTERM)', () => {
  let t: TestApp;
  let world: World;
  const instances: Instance[] = [];
  const locks: Client[] = [];

  before(async () => {
    t = await bootTestApp();
    world = await createWorld(t);
  });
  after(async () => {
    closeAllClients();
    for (const i of instances) if (i.process.exitCode === null) i.process.kill('SIGKILL');
    // A failed test may leave its lock held: ending the holder's connection releases it.
    for (const lock of locks) await lock.end().catch(() => undefined);
    await t.close();
  });

  async function instance(env: Record<string, string>): Promise<Instance> {
    const i = await startInstance({ LOG_LEVEL: 'info', ...env });
    instances.push(i);
    return i;
  }

  /**
   * Holds the lock of the event row in an open transaction; a PATCH of the event waits behind it. The previous holder
   * (of a test that failed with its lock held) is closed first.
   */
  async function lockEvent(): Promise<{ holder: Client; pid: number }> {
    for (const previous of locks.splice(0)) await previous.end().catch(() => undefined);
    const holder = new Client({ connectionString: testDatabaseUrl() });
    locks.push(holder);
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT id FROM events WHERE id = $1 FOR UPDATE', [world.event.id]);
    const [{ pid }] = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows;
    return { holder, pid };
  }

  /** Waits until a query of the app is blocked by the holder's lock: the request is in flight for sure. */
  async function blockedBehind(pid: number): Promise<void> {
    for (let i = 0; i < 200; i++) {
      const rows: { n: string }[] = await t.db.query(
        'SELECT count(*) AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))',
        [pid],
      );
      if (Number(rows[0]?.n) > 0) return;
      await sleep(25);
    }
    assert.fail('the request never reached the database');
  }

  const patchEvent = (port: number, location: string): Promise<Response> =>
    fetch(`http://127.0.0.1:${port}/api/events/${world.event.id}/`, {
      method: 'PATCH',
      headers: { ...bearer(world.tokens.organisateur), 'content-type': 'application/json' },
      body: JSON.stringify({ location }),
    });

  /** Resolves with the time at which a new connection was refused. */
  async function refusedAt(port: number, deadline: number): Promise<number> {
    while (Date.now() < deadline) {
      const refused = await fetch(`http://127.0.0.1:${port}/health/live`).then(
        () => false,
        (error: { cause?: { code?: string } }) => error.cause?.code === 'ECONNREFUSED',
      );
      if (refused) return Date.now();
      await sleep(50);
    }
    return assert.fail('new connections were still accepted');
  }

  it('drains: ready says 503 during the delay, then new connections are refused, the request in flight completes, sockets are closed, exit 0', async (ctx) => {
    // With Redis (socket.io adapter, session cache), so that closing those clients is part of the run.
    const i = await instance({
      SHUTDOWN_DELAY_MS: '800',
      SHUTDOWN_TIMEOUT_MS: '20000',
      REDIS_URL: testRedisUrl(),
      REDIS_PREFIX: `shutdown-${process.pid}`,
    });
    const socket = await connect(i.port, world.tokens.participant);
    const polling = await connect(i.port, world.tokens.organisateur, { transports: ['polling'] });
    const closed = [socket, polling].map((s) => new Promise<string>((resolve) => s.once('disconnect', resolve)));
    const { holder, pid } = await lockEvent();
    const slow = patchEvent(i.port, 'after the drain');
    await blockedBehind(pid);

    const signalled = Date.now();
    i.process.kill('SIGTERM');
    await sleep(100);
    const ready = await fetch(`http://127.0.0.1:${i.port}/health/ready`);
    assert.equal(ready.status, 503);
    assert.deepEqual(await ready.json(), { status: 'draining' });
    assert.equal(ready.headers.get('retry-after'), '5');
    // During the delay the other routes are still served, each response closing its connection.
    const live = await fetch(`http://127.0.0.1:${i.port}/health/live`);
    assert.equal(live.status, 200);
    assert.equal(live.headers.get('connection'), 'close');

    const refused = await refusedAt(i.port, signalled + 5000);
    assert.ok(refused - signalled >= 700, `refused ${refused - signalled} ms after SIGTERM, before the delay`);
    await sleep(300);
    assert.equal(i.process.exitCode, null, 'exited while a request was in flight');
    assert.ok(socket.connected && polling.connected, 'sockets are closed only once the requests in flight are done');

    await holder.query('COMMIT');
    const released = Date.now();
    const res = await slow;
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { location: string }).location, 'after the drain');
    const reasons = await Promise.all(closed);
    for (const reason of reasons) assert.match(reason, /transport close|io server disconnect/);
    assert.equal(await i.exited, 0, i.output());
    const took = Date.now() - signalled;
    ctx.diagnostic(
      `refused after ${refused - signalled} ms; sockets (websocket, polling): ${reasons.join(', ')}; exit 0 ${Date.now() - released} ms after the request was released`,
    );
    assert.ok(took < 20000, `shutdown took ${took} ms`);
    assert.match(i.output(), /Shut down cleanly/);
    const [row] = (await t.db.query('SELECT location FROM events WHERE id = $1', [world.event.id])) as {
      location: string;
    }[];
    assert.equal(row?.location, 'after the drain');
  });

  it('a request stuck past SHUTDOWN_TIMEOUT_MS is cut: exit code 1 and an error log', async (ctx) => {
    const i = await instance({ SHUTDOWN_TIMEOUT_MS: '1500' });
    const { holder, pid } = await lockEvent();
    const stuck = patchEvent(i.port, 'never').then(
      (r) => `answered ${r.status}`,
      (error: Error) => `failed: ${error.message}`,
    );
    await blockedBehind(pid);

    const signalled = Date.now();
    i.process.kill('SIGTERM');
    const code = await i.exited;
    const took = Date.now() - signalled;
    await holder.query('ROLLBACK');
    assert.equal(code, 1, i.output());
    ctx.diagnostic(`exit 1 ${took} ms after SIGTERM (SHUTDOWN_TIMEOUT_MS=1500)`);
    assert.ok(took >= 1400 && took < 6000, `exited ${took} ms after SIGTERM (timeout 1500 ms)`);
    assert.match(await stuck, /^failed/);
    const log = i
      .output()
      .split('\n')
      .filter((line) => line.includes('Shutdown timed out'))
      .map((line) => JSON.parse(line) as { level: number; in_flight: number; timeout_ms: number });
    assert.equal(log.length, 1, i.output());
    assert.equal(log[0]?.level, 50); // pino "error"
    assert.equal(log[0]?.in_flight, 1);
    assert.equal(log[0]?.timeout_ms, 1500);
  });
});
