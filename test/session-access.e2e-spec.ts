import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Test } from 'supertest';
import { EVENT_ROLES } from '../src/common/auth/event-role';
import { BadgeIssuer } from '../src/modules/participants/badge-issuer';
import {
  assign,
  bearer,
  countRows,
  createMember,
  createRoom,
  createSession,
  createWorld,
  uniq,
  type World,
} from './helpers/factories';
import { expectError, expectValidation } from './helpers/assertions';
import { fire, tally } from './helpers/requests';
import { bootTestApp, type TestApp } from './helpers/test-app';

const ACCESS_KEYS = [
  'id',
  'participant',
  'participant_name',
  'session',
  'session_title',
  'has_access',
  'payment_status',
  'amount_paid',
  'paid_at',
  'created_at',
].sort();
const MY_ATELIER_KEYS = [...ACCESS_KEYS, 'start_time', 'end_time', 'room', 'room_name', 'session_status'].sort();
const NON_ORGANIZER_ROLES = EVENT_ROLES.filter((r) => r !== 'organisateur');
const NON_PARTICIPANT_ROLES = EVENT_ROLES.filter((r) => r !== 'participant');
const UNKNOWN_ID = '6f1c1c2e-1111-4111-8111-111111111111';
const ISO_Z = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const HOUR = 3_600_000;

type Body = Record<string, unknown>;
type Access = Record<string, unknown> & { id: string };

function assertAccessShape(body: Body): void {
  assert.deepEqual(Object.keys(body).sort(), ACCESS_KEYS);
  assert.match(String(body.created_at), ISO_Z);
  if (body.paid_at !== null) assert.match(String(body.paid_at), ISO_Z);
  assert.ok(body.amount_paid === null || typeof body.amount_paid === 'string', 'money is a decimal string');
  assert.equal(typeof body.has_access, 'boolean');
}

describe('session-access', () => {
  let t: TestApp;

  /** An atelier in a room of its own (sessions of one room may not overlap). */
  const atelier = async (
    eventId: string,
    opts: { capacity?: number | null; roomCapacity?: number; title?: string; start?: Date; status?: string } = {},
  ): Promise<{ roomId: string; sessionId: string }> => {
    const roomId = await createRoom(t, eventId, { capacity: opts.roomCapacity ?? 100 });
    const sessionId = await createSession(t, eventId, roomId, {
      type: 'atelier',
      isPaid: true,
      price: '5000.00',
      capacity: opts.capacity === undefined ? 10 : opts.capacity,
      title: opts.title,
      start: opts.start,
      status: opts.status,
    });
    return { roomId, sessionId };
  };

  const seatsOf = async (sessionId: string): Promise<number> => {
    const rows: { seats_taken: number }[] = await t.db.query('SELECT seats_taken FROM sessions WHERE id = $1', [
      sessionId,
    ]);
    return (rows[0] as { seats_taken: number }).seats_taken;
  };

  /** seats_taken equals the rows that hold a seat (pending, paid, free): the counter never drifts from the rows. */
  const assertSeats = async (sessionId: string, expected: number): Promise<void> => {
    const holders = await countRows(t, 'session_access', "session_id = $1 AND payment_status <> 'refunded'", [
      sessionId,
    ]);
    assert.equal(holders, expected, 'rows holding a seat');
    assert.equal(await seatsOf(sessionId), expected, 'sessions.seats_taken');
  };

  /** Every access row of the event and the seats of its sessions, for "nothing changed" assertions. */
  const snapshot = async (eventId: string): Promise<unknown> => {
    const rows: { snap: unknown }[] = await t.db.query(
      `SELECT jsonb_build_object(
         'access', (SELECT coalesce(jsonb_agg(to_jsonb(a) ORDER BY a.id), '[]') FROM session_access a WHERE a.event_id = $1),
         'sessions', (SELECT coalesce(jsonb_agg(to_jsonb(s) ORDER BY s.id), '[]') FROM sessions s WHERE s.event_id = $1)
       ) AS snap`,
      [eventId],
    );
    return rows[0]?.snap;
  };

  const grant = (token: string, body: Body): Test => t.http.post('/api/session-access/').set(bearer(token)).send(body);

  const granted = async (token: string, body: Body): Promise<Access> => {
    const res = await grant(token, body);
    assert.equal(res.status, 201, res.text);
    assertAccessShape(res.body);
    return res.body as Access;
  };

  /** `n` participants with badges, written in bulk (the concurrency tests need hundreds). Returns the badge ids. */
  const bulkBadges = async (eventId: string, n: number): Promise<string[]> => {
    const users: { id: string }[] = await t.db.query(
      `INSERT INTO users (email, first_name, last_name)
       SELECT $1 || '-' || i || '@example.test', 'Bulk', 'P' || i FROM generate_series(1, $2::int) AS i RETURNING id`,
      [uniq('bulk'), n],
    );
    const userIds = users.map((u) => u.id);
    await t.db.query(
      `INSERT INTO user_event_assignments (event_id, user_id, role) SELECT $1, unnest($2::uuid[]), 'participant'`,
      [eventId, userIds],
    );
    await t.app.get(BadgeIssuer, { strict: false }).ensure(t.db.manager, eventId, userIds);
    const rows: { id: string }[] = await t.db.query(
      'SELECT id FROM participants WHERE event_id = $1 AND user_id = ANY($2::uuid[])',
      [eventId, userIds],
    );
    assert.equal(rows.length, n);
    return rows.map((r) => r.id);
  };

  before(async () => {
    t = await bootTestApp();
  });
  after(() => t.close());

  describe('organisateur', () => {
    let w: World;
    let token: string;
    before(async () => {
      w = await createWorld(t);
      token = w.tokens.organisateur;
    });

    it('POST paid: 201 with exactly the documented keys, money as a decimal string, a seat taken', async () => {
      const { sessionId } = await atelier(w.event.id, { title: uniq('Atelier IA ') });
      const m = await createMember(t, w.event.id, 'participant', { firstName: 'Amina', lastName: 'Benali' });
      const before = Date.now();
      const body = await granted(token, {
        participant_id: m.participant.id,
        session_id: sessionId,
        payment_status: 'paid',
        amount_paid: '5000',
      });
      const title: { title: string }[] = await t.db.query('SELECT title FROM sessions WHERE id = $1', [sessionId]);
      assert.deepEqual(
        {
          participant: body.participant,
          participant_name: body.participant_name,
          session: body.session,
          session_title: body.session_title,
          has_access: body.has_access,
          payment_status: body.payment_status,
          amount_paid: body.amount_paid,
        },
        {
          participant: m.participant.id,
          participant_name: 'Amina Benali',
          session: sessionId,
          session_title: title[0]?.title,
          has_access: true,
          payment_status: 'paid',
          amount_paid: '5000.00',
        },
      );
      assert.ok(Date.parse(String(body.paid_at)) >= before - 1000, 'paid_at is set when created paid');
      const rows: Body[] = await t.db.query(
        'SELECT event_id, participant_id, session_id, payment_status, amount_paid FROM session_access WHERE id = $1',
        [body.id],
      );
      assert.deepEqual(rows, [
        {
          event_id: w.event.id,
          participant_id: m.participant.id,
          session_id: sessionId,
          payment_status: 'paid',
          amount_paid: '5000.00',
        },
      ]);
      await assertSeats(sessionId, 1);
    });

    it('has_access is derived: paid and free true, pending and refunded false; refunded holds no seat', async () => {
      const { sessionId } = await atelier(w.event.id);
      const cases: [string, boolean, number][] = [
        ['pending', false, 1],
        ['free', true, 2],
        ['refunded', false, 2],
        ['paid', true, 3],
      ];
      for (const [status, access, seats] of cases) {
        const m = await createMember(t, w.event.id);
        const body = await granted(token, {
          participant_id: m.participant.id,
          session_id: sessionId,
          payment_status: status,
        });
        assert.equal(body.payment_status, status);
        assert.equal(body.has_access, access, status);
        assert.equal(body.amount_paid, null);
        assert.equal(body.paid_at === null, status !== 'paid', `paid_at of ${status}`);
        await assertSeats(sessionId, seats);
        const one = await t.http.get(`/api/session-access/${body.id}/`).set(bearer(token)).expect(200);
        assert.deepEqual(one.body, body);
      }
    });

    it('money: "0", "0.5", "9999999999.99" and null are kept as decimal strings', async () => {
      const { sessionId } = await atelier(w.event.id);
      const cases: [string | null, string | null][] = [
        ['0', '0.00'],
        ['0.5', '0.50'],
        ['9999999999.99', '9999999999.99'],
        [null, null],
      ];
      for (const [sent, stored] of cases) {
        const m = await createMember(t, w.event.id);
        const body = await granted(token, {
          participant_id: m.participant.id,
          session_id: sessionId,
          payment_status: 'free',
          amount_paid: sent,
        });
        assert.equal(body.amount_paid, stored);
      }
    });

    it('GET /{id} with and without trailing slash; malformed id 400; unknown id 404', async () => {
      const { sessionId } = await atelier(w.event.id);
      const m = await createMember(t, w.event.id);
      const body = await granted(token, {
        participant_id: m.participant.id,
        session_id: sessionId,
        payment_status: 'free',
      });
      for (const path of [`/api/session-access/${body.id}/`, `/api/session-access/${body.id}`]) {
        const res = await t.http.get(path).set(bearer(token)).expect(200);
        assertAccessShape(res.body);
        assert.deepEqual(res.body, body);
      }
      expectValidation(await t.http.get('/api/session-access/42/').set(bearer(token)), 'id');
      expectError(await t.http.get(`/api/session-access/${UNKNOWN_ID}/`).set(bearer(token)), 404, 'NOT_FOUND');
    });

    it('a second grant of the same participant and atelier: 409 SESSION_ACCESS_EXISTS, nothing changed', async () => {
      const { sessionId } = await atelier(w.event.id);
      const m = await createMember(t, w.event.id);
      const refunded = await createMember(t, w.event.id);
      await granted(token, { participant_id: m.participant.id, session_id: sessionId, payment_status: 'pending' });
      await granted(token, {
        participant_id: refunded.participant.id,
        session_id: sessionId,
        payment_status: 'refunded',
      });
      const before = await snapshot(w.event.id);
      for (const status of ['pending', 'paid', 'free', 'refunded']) {
        for (const p of [m, refunded]) {
          expectError(
            await grant(token, { participant_id: p.participant.id, session_id: sessionId, payment_status: status }),
            409,
            'SESSION_ACCESS_EXISTS',
          );
        }
      }
      assert.deepEqual(await snapshot(w.event.id), before);
      await assertSeats(sessionId, 1);
    });

    it('the same participant may hold several ateliers, and an atelier several participants', async () => {
      const a = await atelier(w.event.id);
      const b = await atelier(w.event.id);
      const m1 = await createMember(t, w.event.id);
      const m2 = await createMember(t, w.event.id);
      for (const s of [a, b]) {
        for (const m of [m1, m2]) {
          await granted(token, { participant_id: m.participant.id, session_id: s.sessionId, payment_status: 'paid' });
        }
      }
      await assertSeats(a.sessionId, 2);
      await assertSeats(b.sessionId, 2);
    });

    it('a staff member’s badge can be granted too', async () => {
      const { sessionId } = await atelier(w.event.id);
      const staff = await createMember(t, w.event.id, 'controlleur_des_badges');
      const body = await granted(token, {
        participant_id: staff.participant.id,
        session_id: sessionId,
        payment_status: 'free',
      });
      assert.equal(body.participant, staff.participant.id);
    });

    it('PATCH pending → paid sets paid_at once; amount alone keeps the status; the seat is held throughout', async () => {
      const { sessionId } = await atelier(w.event.id);
      const m = await createMember(t, w.event.id);
      const pending = await granted(token, {
        participant_id: m.participant.id,
        session_id: sessionId,
        payment_status: 'pending',
        amount_paid: '0',
      });
      assert.equal(pending.paid_at, null);
      assert.equal(pending.has_access, false);
      const path = `/api/session-access/${pending.id}/`;

      const paid = await t.http
        .patch(path)
        .set(bearer(token))
        .send({ payment_status: 'paid', amount_paid: '2500.5' })
        .expect(200);
      assertAccessShape(paid.body);
      assert.equal(paid.body.payment_status, 'paid');
      assert.equal(paid.body.has_access, true);
      assert.equal(paid.body.amount_paid, '2500.50');
      assert.match(String(paid.body.paid_at), ISO_Z);
      assert.equal(paid.body.created_at, pending.created_at);
      assert.equal(paid.body.id, pending.id);
      await assertSeats(sessionId, 1);

      const amount = await t.http.patch(path).set(bearer(token)).send({ amount_paid: '3000.00' }).expect(200);
      assert.equal(amount.body.payment_status, 'paid');
      assert.equal(amount.body.amount_paid, '3000.00');
      assert.equal(amount.body.paid_at, paid.body.paid_at, 'paid_at does not move on a later change');
      const cleared = await t.http.patch(path).set(bearer(token)).send({ amount_paid: null }).expect(200);
      assert.equal(cleared.body.amount_paid, null);
      const empty = await t.http.patch(path.slice(0, -1)).set(bearer(token)).send({}).expect(200);
      assert.deepEqual(empty.body, cleared.body);
      await assertSeats(sessionId, 1);

      const free = await t.http.patch(path).set(bearer(token)).send({ payment_status: 'free' }).expect(200);
      assert.equal(free.body.has_access, true);
      const back = await t.http.patch(path).set(bearer(token)).send({ payment_status: 'pending' }).expect(200);
      assert.equal(back.body.has_access, false);
      await assertSeats(sessionId, 1);
    });

    it('seats follow every change: paid → refunded frees, refunded → paid takes, DELETE frees', async () => {
      const { sessionId } = await atelier(w.event.id, { capacity: 2 });
      const a = await createMember(t, w.event.id);
      const b = await createMember(t, w.event.id);
      const c = await createMember(t, w.event.id);
      const ra = await granted(token, {
        participant_id: a.participant.id,
        session_id: sessionId,
        payment_status: 'paid',
      });
      await assertSeats(sessionId, 1);
      const rb = await granted(token, {
        participant_id: b.participant.id,
        session_id: sessionId,
        payment_status: 'pending',
      });
      await assertSeats(sessionId, 2);
      // Full: a seat-holding grant is refused, a refunded one holds no seat and is accepted.
      const snap = await snapshot(w.event.id);
      for (const status of ['pending', 'paid', 'free']) {
        expectError(
          await grant(token, { participant_id: c.participant.id, session_id: sessionId, payment_status: status }),
          409,
          'ATELIER_FULL',
        );
      }
      assert.deepEqual(await snapshot(w.event.id), snap);
      const rc = await granted(token, {
        participant_id: c.participant.id,
        session_id: sessionId,
        payment_status: 'refunded',
      });
      await assertSeats(sessionId, 2);

      // refunded → paid while full: 409 ATELIER_FULL and nothing changed.
      const full = await snapshot(w.event.id);
      expectError(
        await t.http.patch(`/api/session-access/${rc.id}/`).set(bearer(token)).send({ payment_status: 'paid' }),
        409,
        'ATELIER_FULL',
      );
      expectError(
        await t.http
          .patch(`/api/session-access/${rc.id}/`)
          .set(bearer(token))
          .send({ payment_status: 'free', amount_paid: '1.00' }),
        409,
        'ATELIER_FULL',
      );
      assert.deepEqual(await snapshot(w.event.id), full);

      // paid → refunded frees a seat and keeps when it was paid.
      const refund = await t.http
        .patch(`/api/session-access/${ra.id}/`)
        .set(bearer(token))
        .send({ payment_status: 'refunded' })
        .expect(200);
      assert.equal(refund.body.has_access, false);
      assert.equal(refund.body.paid_at, ra.paid_at);
      await assertSeats(sessionId, 1);
      // refunded → refunded changes nothing.
      await t.http
        .patch(`/api/session-access/${ra.id}/`)
        .set(bearer(token))
        .send({ payment_status: 'refunded' })
        .expect(200);
      await assertSeats(sessionId, 1);

      // The freed seat goes to the refunded one that pays now.
      const pays = await t.http
        .patch(`/api/session-access/${rc.id}/`)
        .set(bearer(token))
        .send({ payment_status: 'paid' })
        .expect(200);
      assert.equal(pays.body.has_access, true);
      assert.match(String(pays.body.paid_at), ISO_Z);
      await assertSeats(sessionId, 2);
      expectError(
        await t.http.patch(`/api/session-access/${ra.id}/`).set(bearer(token)).send({ payment_status: 'paid' }),
        409,
        'ATELIER_FULL',
      );

      // DELETE frees the seat of a holder; deleting a refunded row frees nothing.
      const res = await t.http.delete(`/api/session-access/${rb.id}/`).set(bearer(token)).expect(204);
      assert.equal(res.text, '');
      await assertSeats(sessionId, 1);
      await t.http.delete(`/api/session-access/${ra.id}`).set(bearer(token)).expect(204);
      await assertSeats(sessionId, 1);
      expectError(await t.http.get(`/api/session-access/${rb.id}/`).set(bearer(token)), 404, 'NOT_FOUND');
      expectError(await t.http.delete(`/api/session-access/${rb.id}/`).set(bearer(token)), 404, 'NOT_FOUND');
      expectError(
        await t.http.patch(`/api/session-access/${rb.id}/`).set(bearer(token)).send({ payment_status: 'paid' }),
        404,
        'NOT_FOUND',
      );
      await assertSeats(sessionId, 1);
      // The freed seat can be granted again, to the one whose row was deleted.
      await granted(token, { participant_id: b.participant.id, session_id: sessionId, payment_status: 'free' });
      await assertSeats(sessionId, 2);
    });

    it('an atelier without its own capacity is limited by its room’s capacity', async () => {
      const { sessionId } = await atelier(w.event.id, { capacity: null, roomCapacity: 2 });
      const members = [
        await createMember(t, w.event.id),
        await createMember(t, w.event.id),
        await createMember(t, w.event.id),
      ];
      for (const m of members.slice(0, 2)) {
        await granted(token, { participant_id: m.participant.id, session_id: sessionId, payment_status: 'paid' });
      }
      const before = await snapshot(w.event.id);
      expectError(
        await grant(token, {
          participant_id: members[2]?.participant.id,
          session_id: sessionId,
          payment_status: 'free',
        }),
        409,
        'ATELIER_FULL',
      );
      assert.deepEqual(await snapshot(w.event.id), before);
      await assertSeats(sessionId, 2);
    });

    it('an atelier’s own capacity wins over a larger or smaller room', async () => {
      const big = await atelier(w.event.id, { capacity: 1, roomCapacity: 500 });
      const small = await atelier(w.event.id, { capacity: 3, roomCapacity: 1 });
      const members = [
        await createMember(t, w.event.id),
        await createMember(t, w.event.id),
        await createMember(t, w.event.id),
      ];
      await granted(token, {
        participant_id: members[0]?.participant.id,
        session_id: big.sessionId,
        payment_status: 'paid',
      });
      expectError(
        await grant(token, {
          participant_id: members[1]?.participant.id,
          session_id: big.sessionId,
          payment_status: 'paid',
        }),
        409,
        'ATELIER_FULL',
      );
      for (const m of members) {
        await granted(token, { participant_id: m.participant.id, session_id: small.sessionId, payment_status: 'paid' });
      }
      await assertSeats(big.sessionId, 1);
      await assertSeats(small.sessionId, 3);
    });

    it('PATCH /api/sessions/{id} with a capacity below seats_taken: 409 ATELIER_CAPACITY_BELOW_SEATS, nothing changed', async () => {
      const { sessionId } = await atelier(w.event.id, { capacity: 5 });
      for (let i = 0; i < 3; i++) {
        const m = await createMember(t, w.event.id);
        await granted(token, { participant_id: m.participant.id, session_id: sessionId, payment_status: 'paid' });
      }
      const before = await snapshot(w.event.id);
      for (const body of [{ capacity: 2 }, { capacity: 1, title: 'Renamed' }]) {
        expectError(
          await t.http.patch(`/api/sessions/${sessionId}/`).set(bearer(token)).send(body),
          409,
          'ATELIER_CAPACITY_BELOW_SEATS',
        );
      }
      assert.deepEqual(await snapshot(w.event.id), before);
      const equal = await t.http
        .patch(`/api/sessions/${sessionId}/`)
        .set(bearer(token))
        .send({ capacity: 3 })
        .expect(200);
      assert.equal(equal.body.capacity, 3);
      await assertSeats(sessionId, 3);
      const m = await createMember(t, w.event.id);
      expectError(
        await grant(token, { participant_id: m.participant.id, session_id: sessionId, payment_status: 'paid' }),
        409,
        'ATELIER_FULL',
      );
      await t.http.patch(`/api/sessions/${sessionId}/`).set(bearer(token)).send({ capacity: 4 }).expect(200);
      await granted(token, { participant_id: m.participant.id, session_id: sessionId, payment_status: 'paid' });
      await assertSeats(sessionId, 4);
    });

    it('an atelier falling back on its room’s capacity: dropping its own or moving to a smaller room below seats_taken is a 409', async () => {
      const own = await atelier(w.event.id, { capacity: 4, roomCapacity: 2 });
      const roomless = await atelier(w.event.id, { capacity: null, roomCapacity: 100 });
      const small = await createRoom(t, w.event.id, { capacity: 2 });
      const fits = await createRoom(t, w.event.id, { capacity: 3 });
      for (let i = 0; i < 3; i++) {
        const m = await createMember(t, w.event.id);
        for (const s of [own, roomless]) {
          await granted(token, { participant_id: m.participant.id, session_id: s.sessionId, payment_status: 'paid' });
        }
      }
      const before = await snapshot(w.event.id);
      // capacity null means the room's 2 seats, below the 3 granted.
      expectError(
        await t.http.patch(`/api/sessions/${own.sessionId}/`).set(bearer(token)).send({ capacity: null }),
        409,
        'ATELIER_CAPACITY_BELOW_SEATS',
      );
      // No capacity of its own: a move to a room of 2 would leave 3 people on 2 seats.
      expectError(
        await t.http.patch(`/api/sessions/${roomless.sessionId}/`).set(bearer(token)).send({ room_id: small }),
        409,
        'ATELIER_CAPACITY_BELOW_SEATS',
      );
      expectError(
        await t.http
          .patch(`/api/sessions/${own.sessionId}/`)
          .set(bearer(token))
          .send({ capacity: null, room_id: small }),
        409,
        'ATELIER_CAPACITY_BELOW_SEATS',
      );
      assert.deepEqual(await snapshot(w.event.id), before);
      // Where the seats fit, the same changes go through; an unrelated change is never refused.
      await t.http.patch(`/api/sessions/${roomless.sessionId}/`).set(bearer(token)).send({ room_id: fits }).expect(200);
      await t.http
        .patch(`/api/sessions/${own.sessionId}/`)
        .set(bearer(token))
        .send({ capacity: null, room_id: roomless.roomId })
        .expect(200);
      await t.http
        .patch(`/api/sessions/${roomless.sessionId}/`)
        .set(bearer(token))
        .send({ title: 'Renamed' })
        .expect(200);
      const m = await createMember(t, w.event.id);
      expectError(
        await grant(token, {
          participant_id: m.participant.id,
          session_id: roomless.sessionId,
          payment_status: 'paid',
        }),
        409,
        'ATELIER_FULL',
      );
      await assertSeats(own.sessionId, 3);
      await assertSeats(roomless.sessionId, 3);
    });

    it('seats_taken is read-only through the sessions API', async () => {
      const { sessionId } = await atelier(w.event.id);
      const before = await snapshot(w.event.id);
      expectValidation(
        await t.http.patch(`/api/sessions/${sessionId}/`).set(bearer(token)).send({ seats_taken: 0 }),
        'seats_taken',
      );
      assert.deepEqual(await snapshot(w.event.id), before);
    });

    it('a participant who leaves the event gives back their seats', async () => {
      const { sessionId } = await atelier(w.event.id, { capacity: 2 });
      const viaBadge = await createMember(t, w.event.id);
      const viaRole = await createMember(t, w.event.id);
      for (const m of [viaBadge, viaRole]) {
        await granted(token, { participant_id: m.participant.id, session_id: sessionId, payment_status: 'paid' });
      }
      await assertSeats(sessionId, 2);
      await t.http.delete(`/api/participants/${viaBadge.participant.id}/`).set(bearer(token)).expect(204);
      await assertSeats(sessionId, 1);
      const assignment: { id: string }[] = await t.db.query(
        'SELECT id FROM user_event_assignments WHERE event_id = $1 AND user_id = $2',
        [w.event.id, viaRole.user.id],
      );
      await t.http.delete(`/api/user-assignments/${assignment[0]?.id}/`).set(bearer(token)).expect(204);
      await assertSeats(sessionId, 0);
      // The seats are really free: two newcomers get them.
      for (let i = 0; i < 2; i++) {
        const m = await createMember(t, w.event.id);
        await granted(token, { participant_id: m.participant.id, session_id: sessionId, payment_status: 'paid' });
      }
      await assertSeats(sessionId, 2);
    });

    it('deleting the whole event removes its ateliers, rights and badges at once', async () => {
      const doomed = await createWorld(t);
      const { sessionId } = await atelier(doomed.event.id, { capacity: 3 });
      for (const status of ['paid', 'pending', 'refunded']) {
        const m = await createMember(t, doomed.event.id);
        await granted(doomed.tokens.organisateur, {
          participant_id: m.participant.id,
          session_id: sessionId,
          payment_status: status,
        });
      }
      await t.http.delete(`/api/events/${doomed.event.id}/`).set(bearer(doomed.tokens.organisateur)).expect(204);
      for (const table of ['session_access', 'sessions', 'participants', 'rooms']) {
        assert.equal(await countRows(t, table, 'event_id = $1', [doomed.event.id]), 0, table);
      }
    });

    it('deleting the atelier removes its rights', async () => {
      const { sessionId } = await atelier(w.event.id);
      const m = await createMember(t, w.event.id);
      const body = await granted(token, {
        participant_id: m.participant.id,
        session_id: sessionId,
        payment_status: 'paid',
      });
      await t.http.delete(`/api/sessions/${sessionId}/`).set(bearer(token)).expect(204);
      assert.equal(await countRows(t, 'session_access', 'id = $1', [body.id]), 0);
      expectError(await t.http.get(`/api/session-access/${body.id}/`).set(bearer(token)), 404, 'NOT_FOUND');
    });
  });

  describe('validation', () => {
    let w: World;
    let token: string;
    let sessionId: string;
    let participantId: string;
    before(async () => {
      w = await createWorld(t);
      token = w.tokens.organisateur;
      sessionId = (await atelier(w.event.id)).sessionId;
      participantId = (await createMember(t, w.event.id)).participant.id;
    });

    const badBodies: [string, Body, string[]][] = [
      ['participant_id missing', { participant_id: undefined }, ['participant_id']],
      ['participant_id malformed', { participant_id: 'p-1' }, ['participant_id']],
      ['participant_id null', { participant_id: null }, ['participant_id']],
      ['session_id missing', { session_id: undefined }, ['session_id']],
      ['session_id malformed', { session_id: 42 }, ['session_id']],
      ['payment_status missing', { payment_status: undefined }, ['payment_status']],
      ['payment_status unknown', { payment_status: 'gratis' }, ['payment_status']],
      ['payment_status upper case', { payment_status: 'PAID' }, ['payment_status']],
      ['payment_status null', { payment_status: null }, ['payment_status']],
      ['amount_paid as a number', { amount_paid: 5000 }, ['amount_paid']],
      ['amount_paid negative', { amount_paid: '-1.00' }, ['amount_paid']],
      ['amount_paid with 3 decimals', { amount_paid: '1.234' }, ['amount_paid']],
      ['amount_paid with a comma', { amount_paid: '1,50' }, ['amount_paid']],
      ['amount_paid in exponent form', { amount_paid: '1e3' }, ['amount_paid']],
      ['amount_paid too large for numeric(12, 2)', { amount_paid: '10000000000' }, ['amount_paid']],
      ['amount_paid empty', { amount_paid: '' }, ['amount_paid']],
      ['amount_paid padded', { amount_paid: ' 5' }, ['amount_paid']],
      ['read-only has_access', { has_access: true }, ['has_access']],
      ['read-only paid_at', { paid_at: '2026-01-01T00:00:00Z' }, ['paid_at']],
      ['event_id in the body', { event_id: UNKNOWN_ID }, ['event_id']],
      ['seats', { seats: 1 }, ['seats']],
      ['seats_taken', { seats_taken: 0 }, ['seats_taken']],
      ['read-only id', { id: UNKNOWN_ID }, ['id']],
      ['read-only created_at', { created_at: '2026-01-01T00:00:00Z' }, ['created_at']],
      ['response key participant', { participant: UNKNOWN_ID }, ['participant']],
      ['response key session', { session: UNKNOWN_ID }, ['session']],
      ['an unknown field', { discount: '10' }, ['discount']],
    ];
    for (const [label, extra, fields] of badBodies) {
      it(`POST with ${label}: 400 VALIDATION_FAILED naming it, nothing written`, async () => {
        const before = await snapshot(w.event.id);
        const body = JSON.parse(
          JSON.stringify({ participant_id: participantId, session_id: sessionId, payment_status: 'paid', ...extra }),
        ) as Body;
        expectValidation(await grant(token, body), ...fields);
        assert.deepEqual(await snapshot(w.event.id), before);
      });
    }

    it('ids that are not a badge, or not an atelier, of this event: 400 naming the field, nothing written', async () => {
      const other = await createWorld(t);
      const otherSession = (await atelier(other.event.id)).sessionId;
      const otherBadge = (await createMember(t, other.event.id)).participant.id;
      const conference = await createSession(t, w.event.id, await createRoom(t, w.event.id), { type: 'conference' });
      const roomId = await createRoom(t, w.event.id);
      const member = await createMember(t, w.event.id);
      const before = await snapshot(w.event.id);
      const otherBefore = await snapshot(other.event.id);
      const cases: [Body, string][] = [
        [{ participant_id: otherBadge }, 'participant_id'],
        [{ participant_id: UNKNOWN_ID }, 'participant_id'],
        // A user id is not a badge id.
        [{ participant_id: member.user.id }, 'participant_id'],
        [{ session_id: otherSession }, 'session_id'],
        [{ session_id: UNKNOWN_ID }, 'session_id'],
        [{ session_id: conference }, 'session_id'],
        [{ session_id: roomId }, 'session_id'],
      ];
      for (const [extra, field] of cases) {
        for (const status of ['paid', 'refunded']) {
          const res = await grant(token, {
            participant_id: participantId,
            session_id: sessionId,
            payment_status: status,
            ...extra,
          });
          expectValidation(res, field);
        }
      }
      assert.deepEqual(await snapshot(w.event.id), before);
      assert.deepEqual(await snapshot(other.event.id), otherBefore);
    });

    it('PATCH refuses bad, unknown, read-only and immovable fields; nothing changes', async () => {
      const m = await createMember(t, w.event.id);
      const body = await granted(token, {
        participant_id: m.participant.id,
        session_id: sessionId,
        payment_status: 'pending',
      });
      const otherSession = (await atelier(w.event.id)).sessionId;
      const before = await snapshot(w.event.id);
      const patches: [Body, string][] = [
        [{ payment_status: null }, 'payment_status'],
        [{ payment_status: 'gratis' }, 'payment_status'],
        [{ amount_paid: 12 }, 'amount_paid'],
        [{ amount_paid: '-3' }, 'amount_paid'],
        [{ has_access: true }, 'has_access'],
        [{ paid_at: '2026-01-01T00:00:00Z' }, 'paid_at'],
        [{ participant_id: participantId }, 'participant_id'],
        [{ session_id: otherSession }, 'session_id'],
        [{ event_id: UNKNOWN_ID }, 'event_id'],
        [{ seats: 3 }, 'seats'],
        [{ created_at: '2026-01-01T00:00:00Z' }, 'created_at'],
        // A valid change next to a read-only field: the whole body is refused.
        [{ payment_status: 'paid', has_access: false }, 'has_access'],
      ];
      for (const [patch, field] of patches) {
        expectValidation(await t.http.patch(`/api/session-access/${body.id}/`).set(bearer(token)).send(patch), field);
      }
      expectValidation(
        await t.http.patch('/api/session-access/not-a-uuid/').set(bearer(token)).send({ payment_status: 'paid' }),
        'id',
      );
      expectValidation(await t.http.delete('/api/session-access/not-a-uuid/').set(bearer(token)), 'id');
      expectError(
        await t.http.patch(`/api/session-access/${UNKNOWN_ID}/`).set(bearer(token)).send({ payment_status: 'paid' }),
        404,
        'NOT_FOUND',
      );
      expectError(await t.http.delete(`/api/session-access/${UNKNOWN_ID}/`).set(bearer(token)), 404, 'NOT_FOUND');
      assert.deepEqual(await snapshot(w.event.id), before);
    });

    it('a body that is not a JSON object: 400, nothing written', async () => {
      const before = await snapshot(w.event.id);
      for (const raw of ['{"participant_id": ', '[]', 'null', '"paid"']) {
        const res = await t.http
          .post('/api/session-access/')
          .set(bearer(token))
          .set('Content-Type', 'application/json')
          .send(raw);
        expectError(res, 400, res.body.code === 'BAD_REQUEST' ? 'BAD_REQUEST' : 'VALIDATION_FAILED');
      }
      assert.deepEqual(await snapshot(w.event.id), before);
    });
  });

  describe('list filters', () => {
    let w: World;
    let token: string;
    const rows: Record<string, Access> = {};
    let s1: string;
    let s2: string;
    let p1: string;
    let p2: string;

    before(async () => {
      w = await createWorld(t);
      token = w.tokens.organisateur;
      s1 = (await atelier(w.event.id)).sessionId;
      s2 = (await atelier(w.event.id)).sessionId;
      p1 = (await createMember(t, w.event.id)).participant.id;
      p2 = (await createMember(t, w.event.id)).participant.id;
      const spec: [string, string, string, string][] = [
        ['a', p1, s1, 'paid'],
        ['b', p1, s2, 'pending'],
        ['c', p2, s1, 'free'],
        ['d', p2, s2, 'refunded'],
      ];
      for (const [key, participant, session, status] of spec) {
        rows[key] = await granted(token, { participant_id: participant, session_id: session, payment_status: status });
      }
      // Another event's rows, with the same statuses: never listed here.
      const other = await createWorld(t);
      const os = (await atelier(other.event.id)).sessionId;
      for (const status of ['paid', 'pending', 'free', 'refunded']) {
        const om = await createMember(t, other.event.id);
        await granted(other.tokens.organisateur, {
          participant_id: om.participant.id,
          session_id: os,
          payment_status: status,
        });
      }
    });

    const list = async (query: Record<string, string | number>) => {
      const res = await t.http.get('/api/session-access/').query(query).set(bearer(token)).expect(200);
      return res.body as { count: number; next: string | null; previous: string | null; results: Access[] };
    };
    const keys = (page: { results: Access[] }): string[] =>
      page.results.map((r) => Object.keys(rows).find((k) => rows[k]?.id === r.id) ?? r.id).sort();

    it('with and without trailing slash: only this event’s rows, in the page envelope, with the documented shape', async () => {
      for (const path of ['/api/session-access/', '/api/session-access']) {
        const res = await t.http.get(path).set(bearer(token)).expect(200);
        assert.deepEqual(Object.keys(res.body).sort(), ['count', 'next', 'previous', 'results']);
        assert.equal(res.body.count, 4);
        for (const r of res.body.results as Access[]) {
          assertAccessShape(r);
          assert.deepEqual(r, rows[keys({ results: [r] })[0] as string]);
        }
      }
    });

    it('session, participant, payment_status and has_access filters, alone and together', async () => {
      assert.deepEqual(keys(await list({ session: s1 })), ['a', 'c']);
      assert.deepEqual(keys(await list({ session: s2 })), ['b', 'd']);
      assert.deepEqual(keys(await list({ participant: p1 })), ['a', 'b']);
      assert.deepEqual(keys(await list({ participant: p2 })), ['c', 'd']);
      assert.deepEqual(keys(await list({ payment_status: 'paid' })), ['a']);
      assert.deepEqual(keys(await list({ payment_status: 'pending' })), ['b']);
      assert.deepEqual(keys(await list({ payment_status: 'free' })), ['c']);
      assert.deepEqual(keys(await list({ payment_status: 'refunded' })), ['d']);
      assert.deepEqual(keys(await list({ has_access: 'true' })), ['a', 'c']);
      assert.deepEqual(keys(await list({ has_access: 'false' })), ['b', 'd']);
      assert.deepEqual(keys(await list({ session: s2, has_access: 'false', participant: p2 })), ['d']);
      assert.deepEqual(keys(await list({ session: s2, has_access: 'true' })), []);
      assert.equal((await list({ session: UNKNOWN_ID })).count, 0);
    });

    it('ordering and pagination', async () => {
      const first = await list({ page_size: 3, ordering: 'created_at' });
      assert.equal(first.count, 4);
      assert.equal(first.results.length, 3);
      assert.equal(first.previous, null);
      const next = new URL(first.next as string);
      const second = await t.http
        .get(next.pathname + next.search)
        .set(bearer(token))
        .expect(200);
      assert.equal(second.body.results.length, 1);
      const all = [...first.results, ...(second.body.results as Access[])].map((r) => r.id);
      assert.deepEqual(new Set(all).size, 4);
      const desc = await list({ ordering: '-created_at' });
      const asc = await list({ ordering: 'created_at' });
      assert.deepEqual(
        desc.results.map((r) => r.id),
        asc.results.map((r) => r.id).reverse(),
      );
    });

    it('?event= naming this event filters nothing; another event is a 400', async () => {
      assert.equal((await list({ event: w.event.id })).count, 4);
      const other = await createWorld(t);
      expectValidation(
        await t.http.get('/api/session-access/').query({ event: other.event.id }).set(bearer(token)),
        'event',
      );
    });

    for (const query of [
      { has_access: 'maybe' },
      { payment_status: 'gratis' },
      { session: 'not-a-uuid' },
      { participant: 'x' },
      { ordering: 'amount_paid' },
      { seats: 1 },
    ]) {
      it(`bad query ${JSON.stringify(query)}: 400 VALIDATION_FAILED`, async () => {
        expectValidation(
          await t.http.get('/api/session-access/').query(query).set(bearer(token)),
          ...Object.keys(query),
        );
      });
    }
  });

  describe('my-ateliers', () => {
    it('lists only the caller’s paid and free ateliers, by start time, with the session details', async () => {
      const w = await createWorld(t);
      const token = w.tokens.organisateur;
      const me = await createMember(t, w.event.id);
      const someone = await createMember(t, w.event.id);
      const soon = new Date(Date.now() + 2 * HOUR);
      const later = new Date(Date.now() + 5 * HOUR);
      const live = await atelier(w.event.id, { start: later, title: uniq('Later ') });
      const free = await atelier(w.event.id, { start: soon, title: uniq('Soon '), status: 'live' });
      const pending = await atelier(w.event.id);
      const refunded = await atelier(w.event.id);
      const notMine = await atelier(w.event.id);
      const paidRow = await granted(token, {
        participant_id: me.participant.id,
        session_id: live.sessionId,
        payment_status: 'paid',
        amount_paid: '1200',
      });
      const freeRow = await granted(token, {
        participant_id: me.participant.id,
        session_id: free.sessionId,
        payment_status: 'free',
      });
      await granted(token, {
        participant_id: me.participant.id,
        session_id: pending.sessionId,
        payment_status: 'pending',
      });
      await granted(token, {
        participant_id: me.participant.id,
        session_id: refunded.sessionId,
        payment_status: 'refunded',
      });
      await granted(token, {
        participant_id: someone.participant.id,
        session_id: notMine.sessionId,
        payment_status: 'paid',
      });
      // The same user in another event, with a paid atelier there: not listed in this event.
      const other = await createWorld(t);
      await assign(t, other.event.id, me.user.id, 'participant');
      await t.app.get(BadgeIssuer, { strict: false }).ensure(t.db.manager, other.event.id, [me.user.id]);
      const elsewhere: { id: string }[] = await t.db.query(
        'SELECT id FROM participants WHERE event_id = $1 AND user_id = $2',
        [other.event.id, me.user.id],
      );
      await granted(other.tokens.organisateur, {
        participant_id: elsewhere[0]?.id,
        session_id: (await atelier(other.event.id)).sessionId,
        payment_status: 'paid',
      });

      for (const path of ['/api/my-ateliers/', '/api/my-ateliers']) {
        const res = await t.http.get(path).set(bearer(me.token)).expect(200);
        assert.deepEqual(Object.keys(res.body).sort(), ['count', 'next', 'previous', 'results']);
        assert.equal(res.body.count, 2);
        const [first, second] = res.body.results as Body[];
        for (const r of [first, second] as Body[]) {
          assert.deepEqual(Object.keys(r).sort(), MY_ATELIER_KEYS);
          for (const key of ['start_time', 'end_time', 'created_at']) assert.match(String(r[key]), ISO_Z, key);
        }
        const { start_time, end_time, room, room_name, session_status, ...rest } = first as Body;
        assert.deepEqual(rest, freeRow);
        assert.equal(start_time, soon.toISOString());
        assert.equal(end_time, new Date(soon.getTime() + HOUR).toISOString());
        assert.equal(room, free.roomId);
        const names: { name: string }[] = await t.db.query('SELECT name FROM rooms WHERE id = $1', [free.roomId]);
        assert.equal(room_name, names[0]?.name);
        assert.equal(session_status, 'live');
        assert.equal(second?.id, paidRow.id);
        assert.equal(second?.amount_paid, '1200.00');
        assert.equal(second?.session_status, 'scheduled');
        assert.equal(second?.room, live.roomId);
        assert.equal(second?.has_access, true);
      }

      // Once refunded, the atelier leaves the list; once paid again, it comes back.
      await t.http
        .patch(`/api/session-access/${paidRow.id}/`)
        .set(bearer(token))
        .send({ payment_status: 'refunded' })
        .expect(200);
      let res = await t.http.get('/api/my-ateliers/').set(bearer(me.token)).expect(200);
      assert.deepEqual(
        (res.body.results as Access[]).map((r) => r.id),
        [freeRow.id],
      );
      await t.http
        .patch(`/api/session-access/${paidRow.id}/`)
        .set(bearer(token))
        .send({ payment_status: 'paid' })
        .expect(200);
      res = await t.http.get('/api/my-ateliers/').query({ page_size: 1 }).set(bearer(me.token)).expect(200);
      assert.equal(res.body.count, 2);
      assert.equal(res.body.results.length, 1);
      assert.notEqual(res.body.next, null);
    });

    it('a participant without ateliers (or without a badge) gets an empty page', async () => {
      const w = await createWorld(t);
      const m = await createMember(t, w.event.id);
      const empty = await t.http.get('/api/my-ateliers/').set(bearer(m.token)).expect(200);
      assert.deepEqual(empty.body, { count: 0, next: null, previous: null, results: [] });
      // createWorld's participant has no badge.
      const noBadge = await t.http.get('/api/my-ateliers/').set(bearer(w.tokens.participant)).expect(200);
      assert.equal(noBadge.body.count, 0);
    });

    for (const role of NON_PARTICIPANT_ROLES) {
      it(`${role}: 403 FORBIDDEN, even with a badge and a paid atelier`, async () => {
        const w = await createWorld(t);
        const m = await createMember(t, w.event.id, role);
        const { sessionId } = await atelier(w.event.id);
        await granted(w.tokens.organisateur, {
          participant_id: m.participant.id,
          session_id: sessionId,
          payment_status: 'paid',
        });
        const res = await t.http.get('/api/my-ateliers/').set(bearer(m.token));
        expectError(res, 403, 'FORBIDDEN');
        assert.ok(!res.text.includes(sessionId));
      });
    }
  });

  for (const role of NON_ORGANIZER_ROLES) {
    describe(role, () => {
      it('every session-access route is 403 FORBIDDEN and nothing changes', async () => {
        const w = await createWorld(t);
        const m = await createMember(t, w.event.id, role);
        const { sessionId } = await atelier(w.event.id);
        const row = await granted(w.tokens.organisateur, {
          participant_id: m.participant.id,
          session_id: sessionId,
          payment_status: 'pending',
        });
        const newcomer = await createMember(t, w.event.id);
        const token = m.token;
        const before = await snapshot(w.event.id);
        for (const res of [
          await t.http.get('/api/session-access/').set(bearer(token)),
          await t.http.get(`/api/session-access/${row.id}/`).set(bearer(token)),
          await grant(token, {
            participant_id: newcomer.participant.id,
            session_id: sessionId,
            payment_status: 'free',
          }),
          await grant(token, { participant_id: m.participant.id, session_id: sessionId, payment_status: 'free' }),
          await t.http.patch(`/api/session-access/${row.id}/`).set(bearer(token)).send({ payment_status: 'paid' }),
          await t.http.delete(`/api/session-access/${row.id}/`).set(bearer(token)),
        ]) {
          expectError(res, 403, 'FORBIDDEN');
          assert.ok(!res.text.includes(sessionId), 'a refusal leaks nothing');
        }
        assert.deepEqual(await snapshot(w.event.id), before);
        await assertSeats(sessionId, 1);
      });
    });
  }

  describe('organisateur of another event', () => {
    it('this event’s rows are 404 by id, absent from lists, and unchanged; its ids in a body are a 400', async () => {
      const w = await createWorld(t);
      const other = await createWorld(t);
      const token = other.tokens.organisateur;
      const { sessionId } = await atelier(w.event.id);
      const m = await createMember(t, w.event.id);
      const row = await granted(w.tokens.organisateur, {
        participant_id: m.participant.id,
        session_id: sessionId,
        payment_status: 'refunded',
      });
      const before = await snapshot(w.event.id);
      expectError(await t.http.get(`/api/session-access/${row.id}/`).set(bearer(token)), 404, 'NOT_FOUND');
      expectError(
        await t.http.patch(`/api/session-access/${row.id}/`).set(bearer(token)).send({ payment_status: 'paid' }),
        404,
        'NOT_FOUND',
      );
      expectError(await t.http.delete(`/api/session-access/${row.id}/`).set(bearer(token)), 404, 'NOT_FOUND');
      const list = await t.http
        .get('/api/session-access/')
        .query({ session: sessionId })
        .set(bearer(token))
        .expect(200);
      assert.equal(list.body.count, 0);
      const all = await t.http.get('/api/session-access/').set(bearer(token)).expect(200);
      assert.ok(!all.text.includes(row.id));
      const ownBadge = (await createMember(t, other.event.id)).participant.id;
      const ownAtelier = (await atelier(other.event.id)).sessionId;
      expectValidation(
        await grant(token, { participant_id: ownBadge, session_id: sessionId, payment_status: 'paid' }),
        'session_id',
      );
      expectValidation(
        await grant(token, { participant_id: m.participant.id, session_id: ownAtelier, payment_status: 'paid' }),
        'participant_id',
      );
      assert.deepEqual(await snapshot(w.event.id), before);
      await assertSeats(ownAtelier, 0);
    });
  });

  describe('without a token', () => {
    it('401 on every route, nothing written', async () => {
      const w = await createWorld(t);
      const { sessionId } = await atelier(w.event.id);
      const m = await createMember(t, w.event.id);
      const before = await snapshot(w.event.id);
      expectError(await t.http.get('/api/session-access/'), 401, 'AUTH_REQUIRED');
      expectError(
        await t.http
          .post('/api/session-access/')
          .send({ participant_id: m.participant.id, session_id: sessionId, payment_status: 'free' }),
        401,
        'AUTH_REQUIRED',
      );
      expectError(await t.http.patch(`/api/session-access/${UNKNOWN_ID}/`).send({}), 401, 'AUTH_REQUIRED');
      expectError(await t.http.delete(`/api/session-access/${UNKNOWN_ID}/`), 401, 'AUTH_REQUIRED');
      expectError(await t.http.get('/api/my-ateliers/'), 401, 'AUTH_REQUIRED');
      assert.deepEqual(await snapshot(w.event.id), before);
    });
  });

  describe('concurrency', () => {
    const N = 200;
    const SEATS = 50;

    it(`${N} parallel grants of distinct participants for ${SEATS} seats: exactly ${SEATS} × 201, ${N - SEATS} × 409 ATELIER_FULL`, async () => {
      const w = await createWorld(t);
      const { sessionId } = await atelier(w.event.id, { capacity: SEATS, roomCapacity: 1000 });
      const badges = await bulkBadges(w.event.id, N);
      const responses = await Promise.all(
        badges.map((id, i) =>
          fire(
            grant(w.tokens.organisateur, {
              participant_id: id,
              session_id: sessionId,
              payment_status: ['paid', 'pending', 'free'][i % 3],
            }),
          ),
        ),
      );
      // A count-then-insert guard lets more than SEATS through (see the negative control below).
      assert.deepEqual(tally(responses), { 201: SEATS, 409: N - SEATS });
      for (const r of responses.filter((x) => x.status === 409)) expectError(r, 409, 'ATELIER_FULL');
      assert.equal(await countRows(t, 'session_access', 'session_id = $1', [sessionId]), SEATS);
      await assertSeats(sessionId, SEATS);
      const winners = new Set(responses.filter((r) => r.status === 201).map((r) => r.body.participant as string));
      const rows: { participant_id: string }[] = await t.db.query(
        'SELECT participant_id FROM session_access WHERE session_id = $1',
        [sessionId],
      );
      assert.deepEqual(new Set(rows.map((r) => r.participant_id)), winners);
    });

    it(`negative control: the same ${N} parallel grants for 500 seats all succeed`, async () => {
      // Proves that N concurrent grants really get through (no pool exhaustion, rate limit or serialization error),
      // so the 409s above come from the seat limit alone.
      const w = await createWorld(t);
      const { sessionId } = await atelier(w.event.id, { capacity: 500, roomCapacity: 1000 });
      const badges = await bulkBadges(w.event.id, N);
      const responses = await Promise.all(
        badges.map((id) =>
          fire(grant(w.tokens.organisateur, { participant_id: id, session_id: sessionId, payment_status: 'paid' })),
        ),
      );
      assert.deepEqual(tally(responses), { 201: N });
      assert.equal(await countRows(t, 'session_access', 'session_id = $1', [sessionId]), N);
      await assertSeats(sessionId, N);
    });

    it(`negative control: a naive count-then-insert run in parallel overbooks the ${SEATS} seats`, async () => {
      // The same race done the way the engineering guide forbids: count the holders, then insert if below capacity.
      // It lets more than SEATS in, so the exact counts of the first test are able to catch an overbooking service.
      const w = await createWorld(t);
      const { sessionId } = await atelier(w.event.id, { capacity: SEATS, roomCapacity: 1000 });
      const badges = await bulkBadges(w.event.id, N);
      await Promise.all(
        badges.map(async (participantId) => {
          const runner = t.db.createQueryRunner();
          await runner.connect();
          try {
            await runner.startTransaction();
            const counted: { n: number }[] = await runner.query(
              "SELECT count(*)::int AS n FROM session_access WHERE session_id = $1 AND payment_status <> 'refunded'",
              [sessionId],
            );
            await runner.query('SELECT pg_sleep(0.01)');
            if ((counted[0]?.n ?? 0) < SEATS) {
              await runner.query(
                `INSERT INTO session_access (event_id, participant_id, session_id, payment_status)
                 VALUES ($1, $2, $3, 'paid')`,
                [w.event.id, participantId, sessionId],
              );
            }
            await runner.commitTransaction();
          } finally {
            await runner.release();
          }
        }),
      );
      const rows = await countRows(t, 'session_access', 'session_id = $1', [sessionId]);
      assert.ok(rows > SEATS, `the naive guard overbooks: ${rows} rows for ${SEATS} seats`);
    });

    const M = 50;

    it(`${M} parallel grants of the same participant and atelier: one 201, ${M - 1} × 409, one seat held`, async () => {
      const w = await createWorld(t);
      const { sessionId } = await atelier(w.event.id, { capacity: 100 });
      const m = await createMember(t, w.event.id);
      const responses = await Promise.all(
        Array.from({ length: M }, () =>
          fire(
            grant(w.tokens.organisateur, {
              participant_id: m.participant.id,
              session_id: sessionId,
              payment_status: 'paid',
            }),
          ),
        ),
      );
      assert.deepEqual(tally(responses), { 201: 1, 409: M - 1 });
      for (const r of responses.filter((x) => x.status === 409)) expectError(r, 409, 'SESSION_ACCESS_EXISTS');
      assert.equal(await countRows(t, 'session_access', 'session_id = $1', [sessionId]), 1);
      // Each losing request had taken a seat before its insert failed: none of them may be leaked.
      await assertSeats(sessionId, 1);
    });

    it(`${M} parallel grants of the same participant to a 1-seat atelier: one 201, the rest 409, one seat`, async () => {
      const w = await createWorld(t);
      const { sessionId } = await atelier(w.event.id, { capacity: 1 });
      const m = await createMember(t, w.event.id);
      const responses = await Promise.all(
        Array.from({ length: M }, () =>
          fire(
            grant(w.tokens.organisateur, {
              participant_id: m.participant.id,
              session_id: sessionId,
              payment_status: 'free',
            }),
          ),
        ),
      );
      assert.deepEqual(tally(responses), { 201: 1, 409: M - 1 });
      assert.equal(await countRows(t, 'session_access', 'session_id = $1', [sessionId]), 1);
      await assertSeats(sessionId, 1);
    });

    const R = 30;
    const FREE = 10;

    it(`${R} parallel refunded → paid for ${FREE} free seats: exactly ${FREE} × 200, ${R - FREE} × 409 ATELIER_FULL`, async () => {
      const w = await createWorld(t);
      const { sessionId } = await atelier(w.event.id, { capacity: FREE, roomCapacity: 1000 });
      const badges = await bulkBadges(w.event.id, R);
      const rows: Access[] = [];
      for (const id of badges) {
        rows.push(
          await granted(w.tokens.organisateur, {
            participant_id: id,
            session_id: sessionId,
            payment_status: 'refunded',
          }),
        );
      }
      await assertSeats(sessionId, 0);
      const responses = await Promise.all(
        rows.map((r) =>
          fire(
            t.http
              .patch(`/api/session-access/${r.id}/`)
              .set(bearer(w.tokens.organisateur))
              .send({ payment_status: 'paid' }),
          ),
        ),
      );
      assert.deepEqual(tally(responses), { 200: FREE, 409: R - FREE });
      for (const r of responses.filter((x) => x.status === 409)) expectError(r, 409, 'ATELIER_FULL');
      assert.equal(
        await countRows(t, 'session_access', "session_id = $1 AND payment_status = 'paid'", [sessionId]),
        FREE,
      );
      await assertSeats(sessionId, FREE);
    });

    it(`${M} parallel DELETE and paid → refunded of the same rows free each seat exactly once`, async () => {
      const w = await createWorld(t);
      const { sessionId } = await atelier(w.event.id, { capacity: 10 });
      const badges = await bulkBadges(w.event.id, 4);
      const rows: Access[] = [];
      for (const id of badges) {
        rows.push(
          await granted(w.tokens.organisateur, { participant_id: id, session_id: sessionId, payment_status: 'paid' }),
        );
      }
      await assertSeats(sessionId, 4);
      const [deleted, refunded] = rows as [Access, Access, Access, Access];
      const responses = await Promise.all(
        Array.from({ length: M }, (_, i) =>
          fire(
            i % 2
              ? t.http.delete(`/api/session-access/${deleted.id}/`).set(bearer(w.tokens.organisateur))
              : t.http
                  .patch(`/api/session-access/${refunded.id}/`)
                  .set(bearer(w.tokens.organisateur))
                  .send({ payment_status: 'refunded' }),
          ),
        ),
      );
      const deletes = responses.filter((_, i) => i % 2);
      const patches = responses.filter((_, i) => !(i % 2));
      assert.deepEqual(tally(deletes), { 204: 1, 404: M / 2 - 1 });
      assert.deepEqual(tally(patches), { 200: M / 2 });
      await assertSeats(sessionId, 2);
    });
  });
});
