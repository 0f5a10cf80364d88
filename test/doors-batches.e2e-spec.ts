import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Pool, type PoolClient } from 'pg';
import request from 'supertest';
import { DoorService } from '../src/modules/access/door.service';
import { expectError } from './helpers/assertions';
import { bearer, createMember, createRoom, createWorld, type World } from './helpers/factories';
import { startPair, type Instance } from './helpers/instance';
import { countBy, fire } from './helpers/requests';
import { testDatabaseUrl, type TestApp } from './helpers/test-app';

/*
 * Scans that arrive together are decided together (`door_decide_batch`, one statement per batch). Each must still get
 * its own answer, and batches must never deadlock: not with each other, not with single decisions, not across
 * instances.
 */
describe('door decisions in batches', () => {
  let a: TestApp;
  let b: Instance;
  let close: () => Promise<void>;
  let w: World;
  let pool: Pool;

  before(async () => {
    ({ a, b, close } = await startPair({}));
    w = await createWorld(a);
    pool = new Pool({ connectionString: testDatabaseUrl(), max: 4 });
  });
  after(async () => {
    await pool.end();
    await close();
  });

  const people = (n: number) => Promise.all(Array.from({ length: n }, () => createMember(a, w.event.id)));
  const onB = () => request(`http://127.0.0.1:${b.port}`);

  it('120 parallel scans of 120 badges at 3 doors: decided in batches, each answer is its own badge’s', async () => {
    const rooms = await Promise.all([1, 2, 3].map(() => createRoom(a, w.event.id, { capacity: 1000 })));
    const crowd = await people(120);
    const responses = await Promise.all(
      crowd.map((m, i) =>
        fire(
          a.http
            .post(`/api/rooms/${rooms[i % 3]}/verify_access/`)
            .set(bearer(w.tokens.organisateur))
            .send({ qr_data: m.qr }),
        ),
      ),
    );
    assert.deepEqual(countBy(responses.map((r) => String(r.status))), { 200: 120 });
    responses.forEach((res, i) => {
      assert.equal(res.body.status, 'granted');
      assert.equal(res.body.participant.id, crowd[i]?.participant.id, `answer ${i} names its own badge`);
      assert.equal(res.body.room.id, rooms[i % 3]);
    });
    const logs: { id: string; participant_id: string; received_at: Date }[] = await a.db.query(
      'SELECT id, participant_id, received_at FROM room_access_logs WHERE id = ANY($1::uuid[])',
      [responses.map((r) => r.body.access_id as string)],
    );
    assert.equal(logs.length, 120);
    const byAccess = new Map(logs.map((l) => [l.id, l.participant_id]));
    responses.forEach((res, i) => assert.equal(byAccess.get(res.body.access_id), crowd[i]?.participant.id));
    // A batch is one transaction: its decisions share the transaction's time. Fewer times than scans: batched.
    const times = new Set(logs.map((l) => l.received_at.getTime()));
    assert.ok(times.size < 120, `${times.size} transactions for 120 scans`);
  });

  it('a crowd crossing 4 rooms through two instances, with offline uploads at the same time: no deadlock, exact counts', async () => {
    const rooms = await Promise.all([1, 2, 3, 4].map(() => createRoom(a, w.event.id, { capacity: 1000 })));
    const crowd = await people(30);
    const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)] as T;
    const online = Array.from({ length: 400 }, (_, i) => {
      const http = i % 2 === 0 ? a.http : onB();
      return fire(
        http
          .post(`/api/rooms/${pick(rooms)}/verify_access/`)
          .set(bearer(w.tokens.organisateur))
          .send({ qr_data: pick(crowd).qr, direction: Math.random() < 0.7 ? 'in' : 'out' }),
      );
    });
    const start = Date.now() - 60_000;
    const offline = [a.http, onB()].map((http, d) =>
      fire(
        http
          .post('/api/scans/sync/')
          .set(bearer(w.tokens.organisateur))
          .send({
            device_id: `tablet-${d}-${randomUUID()}`,
            scans: Array.from({ length: 60 }, (_, i) => ({
              nonce: `n${i}`,
              qr_data: pick(crowd).qr,
              room_id: pick(rooms),
              direction: i % 4 === 3 ? 'out' : 'in',
              scanned_at: new Date(start + i * 500).toISOString(),
              local_decision: 'granted',
            })),
          }),
      ),
    );
    const responses = await Promise.all([...online, ...offline]);
    assert.deepEqual(countBy(responses.map((r) => String(r.status))), { 200: 402 });

    const rows: { n: number; inside: string }[] = await a.db.query(
      `SELECT r.current_participants AS n, (SELECT count(*) FROM participants p WHERE p.current_room_id = r.id) AS inside
         FROM rooms r WHERE r.id = ANY($1::uuid[])`,
      [rooms],
    );
    for (const row of rows) assert.equal(row.n, Number(row.inside), 'occupancy equals the people inside');
    // A deadlock would not show as an error (the failed batch's scans are decided again, alone): it shows here.
    assert.equal(a.app.get(DoorService).failedBatches, 0, 'no batch failed on instance A');
    assert.doesNotMatch(b.output(), /A batch of door decisions failed/, 'no batch failed on instance B');
  });

  it('an answer waits for the WAL flush after its batch: when the flush fails, 500, and the committed scan comes back as a replay', async () => {
    const room = await createRoom(a, w.event.id, { capacity: 10 });
    const [m] = await people(1);
    const scan = { qr_data: m?.qr, device_id: `flush-${randomUUID()}`, nonce: 'n1' };
    const barrier = (a.app.get(DoorService) as unknown as { durable: { wait: () => Promise<void> } }).durable;
    const wait = barrier.wait.bind(barrier);
    barrier.wait = () => Promise.reject(new Error('disk gone'));
    let failed: request.Response;
    try {
      failed = await a.http.post(`/api/rooms/${room}/verify_access/`).set(bearer(w.tokens.organisateur)).send(scan);
    } finally {
      barrier.wait = wait;
    }
    expectError(failed, 500, 'INTERNAL_ERROR');
    // Committed before the flush: the same device and nonce get that decision back, not a new one.
    const again = await a.http.post(`/api/rooms/${room}/verify_access/`).set(bearer(w.tokens.organisateur)).send(scan);
    assert.equal(again.status, 200);
    assert.equal(again.body.status, 'granted');
    const logs: { n: number }[] = await a.db.query(
      'SELECT count(*)::int AS n FROM room_access_logs WHERE device_id = $1 AND nonce = $2',
      [scan.device_id, scan.nonce],
    );
    assert.equal(logs[0]?.n, 1, 'decided once');
    const rooms: { n: number }[] = await a.db.query('SELECT current_participants AS n FROM rooms WHERE id = $1', [
      room,
    ]);
    assert.equal(rooms[0]?.n, 1);
  });

  describe('the lock order (why a batch takes every lock first)', () => {
    const item = (room: string, qrHash: string) => ({
      event: w.event.id,
      room,
      qr_hash: qrHash,
      direction: 'in',
      scanner: w.users.organisateur.id,
      scanner_role: 'organisateur',
      source: 'online',
    });
    /**
     * Two badges (p, q) and two rooms: one transaction lets p then q into room 1, the other q then p into room 2.
     * Decided one by one, each holds the badge it took first and waits for the other's.
     */
    const setup = async () => {
      const [r1, r2] = await Promise.all([1, 2].map(() => createRoom(a, w.event.id, { capacity: 10 })));
      const [p, q] = await people(2);
      const hashes: { id: string; qr_hash: string }[] = await a.db.query(
        'SELECT id, qr_hash FROM participants WHERE id = ANY($1::uuid[])',
        [[p?.participant.id, q?.participant.id]],
      );
      const hash = (id?: string) => hashes.find((h) => h.id === id)?.qr_hash as string;
      const [hp, hq] = [hash(p?.participant.id), hash(q?.participant.id)];
      return {
        one: [item(r1 as string, hp), item(r1 as string, hq)],
        other: [item(r2 as string, hq), item(r2 as string, hp)],
      };
    };
    const decideAlone = (c: PoolClient, i: ReturnType<typeof item>) =>
      c.query(
        `SELECT door_decide($1, $2, $3, NULL, $4, $5, $6, NULL, NULL, NULL, $7, NULL, NULL, NULL,
                            '0 seconds'::interval, '0 seconds'::interval)`,
        [i.event, i.room, i.qr_hash, i.direction, i.scanner, i.scanner_role, i.source],
      );
    const inTransactions = async <T>(work: (c1: PoolClient, c2: PoolClient) => Promise<T>): Promise<T> => {
      const [c1, c2] = [await pool.connect(), await pool.connect()];
      try {
        await c1.query("BEGIN; SET LOCAL deadlock_timeout = '100ms'");
        await c2.query("BEGIN; SET LOCAL deadlock_timeout = '100ms'");
        return await work(c1, c2);
      } finally {
        await c1.query('ROLLBACK').catch(() => undefined);
        await c2.query('ROLLBACK').catch(() => undefined);
        c1.release();
        c2.release();
      }
    };

    it('negative control: the same two moves decided one by one in opposite orders deadlock', async () => {
      const { one, other } = await setup();
      const outcome = await inTransactions(async (c1, c2) => {
        await decideAlone(c1, one[0]!);
        await decideAlone(c2, other[0]!);
        const results = await Promise.allSettled([decideAlone(c1, one[1]!), decideAlone(c2, other[1]!)]);
        return results.map((r) => (r.status === 'rejected' ? (r.reason as { code?: string }).code : 'ok'));
      });
      assert.ok(outcome.includes('40P01'), `expected a deadlock, got ${outcome.join(', ')}`);
    });

    it('door_decide_batch with the same moves in opposite orders: the second waits, neither deadlocks', async () => {
      const { one, other } = await setup();
      const outcome = await inTransactions(async (c1, c2) => {
        const batch = (c: PoolClient, items: unknown[]) =>
          c.query(`SELECT door_decide_batch($1::jsonb, '0 seconds', '0 seconds') AS r`, [JSON.stringify(items)]);
        const first = await batch(c1, one);
        const second = batch(c2, other); // waits for c1's locks
        await new Promise((r) => setTimeout(r, 300)); // three deadlock timeouts
        await c1.query('COMMIT');
        return [first, await second].map((r) => (r.rows[0].r as { status: string }[]).map((x) => x.status));
      });
      assert.deepEqual(outcome, [
        ['granted', 'granted'],
        ['granted', 'granted'],
      ]);
    });
  });
});
