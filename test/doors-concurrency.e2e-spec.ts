import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { Pool } from 'pg';
import { bearer, createMember, createRoom, createWorld, type World } from './helpers/factories';
import { countBy, fire } from './helpers/requests';
import { bootTestApp, testDatabaseUrl, type TestApp } from './helpers/test-app';

describe('doors under concurrency', () => {
  let t: TestApp;
  let w: World;
  /** Plain connections for the negative controls, which race outside the app on purpose. */
  let pool: Pool;

  const occupancy = async (roomIds: string[]): Promise<number[]> => {
    const rows: { id: string; n: number }[] = await t.db.query(
      'SELECT id, current_participants AS n FROM rooms WHERE id = ANY($1::uuid[])',
      [roomIds],
    );
    return roomIds.map((id) => (rows.find((r) => r.id === id) as { n: number }).n);
  };

  const scan = (token: string, roomId: string, qr: string, direction: 'in' | 'out' = 'in') =>
    fire(t.http.post(`/api/rooms/${roomId}/verify_access/`).set(bearer(token)).send({ qr_data: qr, direction }));

  before(async () => {
    t = await bootTestApp();
    w = await createWorld(t);
    pool = new Pool({ connectionString: testDatabaseUrl(), max: 20 });
  });
  after(async () => {
    await pool.end();
    await t.close();
  });

  describe('200 parallel scans of one badge at 4 doors', () => {
    it('check the badge in once and put it in exactly one room (+1 occupancy in all)', async () => {
      const rooms = await Promise.all([1, 2, 3, 4].map(() => createRoom(t, w.event.id, { capacity: 500 })));
      const m = await createMember(t, w.event.id);
      const responses = await Promise.all(
        Array.from({ length: 200 }, (_, i) => scan(w.tokens.organisateur, rooms[i % 4] as string, m.qr)),
      );
      assert.deepEqual(countBy(responses.map((r) => String(r.status))), { 200: 200 });
      assert.deepEqual(countBy(responses.map((r) => r.body.status as string)), { granted: 200 });

      const occ = await occupancy(rooms);
      assert.equal(
        occ.reduce((a, b) => a + b, 0),
        1,
        `occupancy across the 4 rooms: ${occ.join(', ')}`,
      );
      const badge: { is_checked_in: boolean; checked_in_at: Date; current_room_id: string }[] = await t.db.query(
        'SELECT is_checked_in, checked_in_at, current_room_id FROM participants WHERE id = $1',
        [m.participant.id],
      );
      assert.equal(badge[0]?.is_checked_in, true);
      assert.equal(occ[rooms.indexOf(badge[0]?.current_room_id as string)], 1, 'the occupied room is the badge’s room');
      // The first granted scan set the check-in; the 199 others left it alone.
      const firstGranted: { scanned_at: Date }[] = await t.db.query(
        `SELECT min(scanned_at) AS scanned_at FROM room_access_logs WHERE participant_id = $1 AND status = 'granted'`,
        [m.participant.id],
      );
      assert.equal(badge[0]?.checked_in_at.getTime(), firstGranted[0]?.scanned_at.getTime());
      const ledger: { n: string }[] = await t.db.query(
        'SELECT count(*) AS n FROM attendances WHERE participant_id = $1 AND session_id IS NULL',
        [m.participant.id],
      );
      assert.equal(Number(ledger[0]?.n), 1, 'one event attendance');
      const logs: { n: string }[] = await t.db.query(
        'SELECT count(*) AS n FROM room_access_logs WHERE participant_id = $1',
        [m.participant.id],
      );
      assert.equal(Number(logs[0]?.n), 200, 'every attempt is logged');
    });

    it('negative control: a read-then-write entry without the badge lock counts the badge in several rooms', async () => {
      const rooms = await Promise.all([1, 2, 3, 4].map(() => createRoom(t, w.event.id, { capacity: 500 })));
      const m = await createMember(t, w.event.id);
      // What the function would be without `FOR NO KEY UPDATE` on the badge: read where it is, then move it.
      await Promise.all(
        Array.from({ length: 200 }, async (_, i) => {
          const room = rooms[i % 4] as string;
          const client = await pool.connect();
          try {
            await client.query('BEGIN');
            const r = await client.query('SELECT current_room_id FROM participants WHERE id = $1', [m.participant.id]);
            if (r.rows[0].current_room_id !== room) {
              await client.query('UPDATE rooms SET current_participants = current_participants + 1 WHERE id = $1', [
                room,
              ]);
              await client.query('UPDATE participants SET current_room_id = $2 WHERE id = $1', [
                m.participant.id,
                room,
              ]);
            }
            await client.query('COMMIT');
          } finally {
            client.release();
          }
        }),
      );
      const total = (await occupancy(rooms)).reduce((a, b) => a + b, 0);
      assert.ok(total > 1, `the unlocked version should over-count, found ${total}`);
    });
  });

  describe('a capacity-10 room under 200 parallel different badges', () => {
    it('grants exactly 10 and answers ROOM_FULL to 190', async () => {
      const room = await createRoom(t, w.event.id, { capacity: 10 });
      const members = await Promise.all(Array.from({ length: 200 }, () => createMember(t, w.event.id)));
      const responses = await Promise.all(members.map((m) => scan(w.tokens.organisateur, room, m.qr)));
      assert.deepEqual(countBy(responses.map((r) => String(r.status))), { 200: 200 });
      assert.deepEqual(countBy(responses.map((r) => r.body.reason_code as string)), { OK: 10, ROOM_FULL: 190 });
      assert.deepEqual(await occupancy([room]), [10]);
      const inside: { n: string }[] = await t.db.query(
        'SELECT count(*) AS n FROM participants WHERE current_room_id = $1',
        [room],
      );
      assert.equal(Number(inside[0]?.n), 10);
      for (const r of responses.filter((x) => x.body.status === 'granted')) {
        assert.ok(r.body.room.current_participants <= 10);
      }
    });

    it('negative control: check-then-increment without the conditional update admits more than 10', async () => {
      const room = await createRoom(t, w.event.id, { capacity: 10 });
      let admitted = 0;
      await Promise.all(
        Array.from({ length: 200 }, async () => {
          const client = await pool.connect();
          try {
            const r = await client.query('SELECT current_participants, capacity FROM rooms WHERE id = $1', [room]);
            if (r.rows[0].current_participants < r.rows[0].capacity) {
              admitted += 1;
              // Only the CHECK constraint stops the counter; the naive door has already said "granted".
              await client
                .query('UPDATE rooms SET current_participants = current_participants + 1 WHERE id = $1', [room])
                .catch(() => undefined);
            }
          } finally {
            client.release();
          }
        }),
      );
      assert.ok(admitted > 10, `the naive door should admit more than 10, admitted ${admitted}`);
    });
  });

  describe('random in/out mixes (fast-check)', () => {
    type Op = { who: number; room: number; direction: 'in' | 'out' };
    const ROOMS = 3;
    const PEOPLE = 6;
    const CAPACITY = 2;
    const opArb = fc.record({
      who: fc.integer({ min: 0, max: PEOPLE - 1 }),
      room: fc.integer({ min: 0, max: ROOMS - 1 }),
      direction: fc.constantFrom<'in' | 'out'>('in', 'in', 'out'),
    });

    /** The door rules for occupancy (PRODUCT.md 7-9 and exits), on a model: where each person is. */
    function model(ops: Op[], impliedExit = true) {
      const where: (number | null)[] = Array.from({ length: PEOPLE }, () => null);
      const occ = Array.from({ length: ROOMS }, () => 0);
      return ops.map((op) => {
        const here = where[op.who] === op.room;
        if (op.direction === 'out') {
          if (here) {
            occ[op.room] = (occ[op.room] as number) - 1;
            where[op.who] = null;
          }
          return { status: 'granted', duplicate: !here, occupancy: occ[op.room] };
        }
        if (here) return { status: 'granted', duplicate: true, occupancy: occ[op.room] };
        if ((occ[op.room] as number) >= CAPACITY) return { status: 'denied', duplicate: false, occupancy: CAPACITY };
        const prev = where[op.who];
        if (prev !== null && prev !== undefined && impliedExit) occ[prev] = (occ[prev] as number) - 1;
        occ[op.room] = (occ[op.room] as number) + 1;
        where[op.who] = op.room;
        return { status: 'granted', duplicate: false, occupancy: occ[op.room] };
      });
    }

    const setup = async () => {
      const rooms = await Promise.all(
        Array.from({ length: ROOMS }, () => createRoom(t, w.event.id, { capacity: CAPACITY })),
      );
      const people = await Promise.all(Array.from({ length: PEOPLE }, () => createMember(t, w.event.id)));
      return { rooms, people };
    };

    it('one scan at a time: every answer and every occupancy is what the model says', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 25 }), async (ops) => {
          const { rooms, people } = await setup();
          const expected = model(ops);
          for (const [i, op] of ops.entries()) {
            const res = await scan(w.tokens.organisateur, rooms[op.room] as string, people[op.who]!.qr, op.direction);
            const got = {
              status: res.body.status,
              duplicate: res.body.duplicate,
              occupancy: res.body.room.current_participants,
            };
            assert.deepEqual(got, expected[i], `op ${i} ${JSON.stringify(op)} of ${JSON.stringify(ops)}`);
          }
        }),
        { numRuns: 12 },
      );
    });

    it('negative control: a model without the implied exit is caught by the same comparison', async () => {
      // Person 0 enters room 0, then room 1: the real door moves them (room 0 back to 0), the broken model does not.
      const ops: Op[] = [
        { who: 0, room: 0, direction: 'in' },
        { who: 0, room: 1, direction: 'in' },
        { who: 1, room: 0, direction: 'in' },
      ];
      const { rooms, people } = await setup();
      const broken = model(ops, false);
      const got = [];
      for (const op of ops) {
        const res = await scan(w.tokens.organisateur, rooms[op.room] as string, people[op.who]!.qr, op.direction);
        got.push({
          status: res.body.status,
          duplicate: res.body.duplicate,
          occupancy: res.body.room.current_participants,
        });
      }
      assert.notDeepEqual(got, broken);
      assert.deepEqual(got, model(ops));
    });

    it('parallel mixes never leave occupancy outside 0..capacity and always match who is inside', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { minLength: 20, maxLength: 80 }), async (ops) => {
          const { rooms, people } = await setup();
          const responses = await Promise.all(
            ops.map((op) => scan(w.tokens.organisateur, rooms[op.room] as string, people[op.who]!.qr, op.direction)),
          );
          assert.ok(responses.every((r) => r.status === 200));
          const rows: { id: string; n: number; inside: string }[] = await t.db.query(
            `SELECT r.id, r.current_participants AS n,
                    (SELECT count(*) FROM participants p WHERE p.current_room_id = r.id) AS inside
               FROM rooms r WHERE r.id = ANY($1::uuid[])`,
            [rooms],
          );
          for (const row of rows) {
            assert.ok(row.n >= 0 && row.n <= CAPACITY, `occupancy ${row.n}`);
            assert.equal(row.n, Number(row.inside), 'occupancy equals the people whose current room it is');
          }
        }),
        { numRuns: 8 },
      );
    });
  });
});
