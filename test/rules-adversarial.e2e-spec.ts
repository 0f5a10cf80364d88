import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Response, Test } from 'supertest';
import { EVENT_ROLES, type EventRole } from '../src/common/auth/event-role';
import { codeFor, windowAt } from '../src/modules/attendance/attendance-code';
import { expectError, expectValidation } from './helpers/assertions';
import {
  bearer,
  countRows,
  createEvent,
  createMember,
  createRoom,
  createSession,
  createUser,
  createWorld,
  openSession,
  type World,
} from './helpers/factories';
import { fire, tally } from './helpers/requests';
import { bootTestApp, type TestApp } from './helpers/test-app';

/*
 * Adversarial rules for registrations, paid ateliers, attendance, questions and exhibitor leads: what the other specs
 * leave out. Races are fired with Promise.all and judged by database invariants (counters equal to their rows, one
 * record per person); state rules and scope are judged by the answer and by "nothing changed" snapshots of the rows.
 */

const HOUR = 3_600_000;
const STAFF: EventRole[] = ['organisateur', 'gestionnaire_des_salles', 'controlleur_des_badges'];
const MODERATORS: EventRole[] = ['organisateur', 'gestionnaire_des_salles'];
const ALL = [...EVENT_ROLES];

type Body = Record<string, unknown>;
type Member = Awaited<ReturnType<typeof createMember>>;

describe('rules, adversarial', () => {
  let t: TestApp;
  let w: World;

  before(async () => {
    t = await bootTestApp();
    w = await createWorld(t);
  });
  after(() => t.close());

  const as = (token: string) => bearer(token);
  const org = () => as(w.tokens.organisateur);

  /** A session in a room of its own, running now unless told otherwise. */
  const session = async (
    eventId: string,
    opts: Parameters<typeof createSession>[3] & { roomCapacity?: number } = {},
  ): Promise<{ room: string; id: string }> => {
    const room = await createRoom(t, eventId, { capacity: opts.roomCapacity ?? 100 });
    const id = await createSession(t, eventId, room, {
      start: new Date(Date.now() - HOUR / 2),
      end: new Date(Date.now() + HOUR / 2),
      ...opts,
    });
    return { room, id };
  };
  const paidAtelier = (eventId: string, opts: Parameters<typeof createSession>[3] & { roomCapacity?: number } = {}) =>
    session(eventId, { type: 'atelier', isPaid: true, price: '500.00', ...opts });

  const attend = (sessionId: string, token: string, body: Body = {}): Test =>
    t.http.post(`/api/sessions/${sessionId}/attend/`).set(as(token)).send(body);
  const sessionRecords = (sessionId: string, participantId?: string) =>
    participantId
      ? countRows(t, 'attendances', 'session_id = $1 AND participant_id = $2', [sessionId, participantId])
      : countRows(t, 'attendances', 'session_id = $1', [sessionId]);
  const grant = async (participantId: string, sessionId: string, paymentStatus = 'paid'): Promise<string> => {
    const res = await t.http
      .post('/api/session-access/')
      .set(org())
      .send({ participant_id: participantId, session_id: sessionId, payment_status: paymentStatus });
    assert.equal(res.status, 201, res.text);
    return res.body.id as string;
  };
  const scan = (roomId: string, qr: string, direction: 'in' | 'out' = 'in') =>
    t.http
      .post(`/api/rooms/${roomId}/verify_access/`)
      .set(as(w.tokens.controlleur_des_badges))
      .send({ qr_data: qr, direction });
  const occupancy = async (roomId: string): Promise<number> => {
    const rows: { n: number }[] = await t.db.query('SELECT current_participants AS n FROM rooms WHERE id = $1', [
      roomId,
    ]);
    return rows[0]?.n ?? -1;
  };
  const ask = (sessionId: string, token: string, text = 'What about it?') =>
    t.http.post(`/api/sessions/${sessionId}/questions/`).set(as(token)).send({ question_text: text });

  /** Every row these modules own for one event, for "nothing changed" comparisons. */
  const snapshot = async (eventId: string): Promise<unknown> => {
    const rows: { snap: unknown }[] = await t.db.query(
      `SELECT jsonb_build_object(
         'questions', (SELECT coalesce(jsonb_agg(to_jsonb(q) ORDER BY q.id), '[]') FROM questions q WHERE q.event_id = $1),
         'upvotes', (SELECT coalesce(jsonb_agg(to_jsonb(v) ORDER BY v.question_id, v.user_id), '[]')
                       FROM question_upvotes v WHERE v.event_id = $1),
         'attendances', (SELECT coalesce(jsonb_agg(to_jsonb(a) ORDER BY a.id), '[]') FROM attendances a WHERE a.event_id = $1),
         'codes', (SELECT coalesce(jsonb_agg(to_jsonb(c) ORDER BY c.session_id), '[]') FROM attendance_codes c WHERE c.event_id = $1),
         'access', (SELECT coalesce(jsonb_agg(to_jsonb(s) ORDER BY s.id), '[]') FROM session_access s WHERE s.event_id = $1),
         'leads', (SELECT coalesce(jsonb_agg(to_jsonb(l) ORDER BY l.id), '[]') FROM exposant_scans l WHERE l.event_id = $1),
         'registrations', (SELECT coalesce(jsonb_agg(to_jsonb(r) ORDER BY r.id), '[]') FROM event_registrations r WHERE r.event_id = $1),
         'seats', (SELECT coalesce(jsonb_agg(jsonb_build_array(s.id, s.seats_taken, s.status) ORDER BY s.id), '[]')
                     FROM sessions s WHERE s.event_id = $1),
         'badges', (SELECT coalesce(jsonb_agg(jsonb_build_array(p.id, p.is_checked_in, p.current_room_id) ORDER BY p.id), '[]')
                      FROM participants p WHERE p.event_id = $1)
       ) AS snap`,
      [eventId],
    );
    return rows[0]?.snap;
  };

  // ---------------------------------------------------------------------------------------------------------------
  describe('attendance: state rules', () => {
    it('a session marked completed before its end takes no more self attendance (409), nothing written', async () => {
      const m = await createMember(t, w.event.id);
      const s = await session(w.event.id);
      assert.equal((await t.http.post(`/api/sessions/${s.id}/mark_live/`).set(org())).status, 200);
      // Control: while live, a participant may attend.
      const early = await createMember(t, w.event.id);
      assert.equal((await attend(s.id, early.token)).status, 200);
      assert.equal((await t.http.post(`/api/sessions/${s.id}/mark_completed/`).set(org())).status, 200);
      // PRODUCT.md: "attendance is possible only while the event or session runs" — a completed session does not run,
      // and questions already refuse it (SESSION_CLOSED).
      const res = await attend(s.id, m.token);
      assert.equal(res.status, 409, `attendance to a completed session: ${res.status} ${res.text}`);
      assert.equal(await sessionRecords(s.id, m.participant.id), 0);
    });

    it('a session running now in an event that is cancelled or over: no self attendance (the door says EVENT_NOT_ACTIVE)', async () => {
      const cancelled = await createWorld(t);
      const over = await createWorld(t, {
        startDate: new Date(Date.now() - 48 * HOUR),
        endDate: new Date(Date.now() - 24 * HOUR),
      });
      const patched = await t.http
        .patch(`/api/events/${cancelled.event.id}/`)
        .set(as(cancelled.tokens.organisateur))
        .send({ is_cancelled: true });
      assert.equal(patched.status, 200, patched.text);
      assert.equal(patched.body.status, 'cancelled');
      const wrong: string[] = [];
      for (const world of [cancelled, over]) {
        const m = await createMember(t, world.event.id);
        const s = await session(world.event.id);
        // Control: the door refuses this badge here.
        const door = await t.http
          .post(`/api/rooms/${s.room}/verify_access/`)
          .set(as(world.tokens.controlleur_des_badges))
          .send({ qr_data: m.qr });
        assert.equal(door.body.reason_code, 'EVENT_NOT_ACTIVE', door.text);
        // And the event-level attendance refuses too.
        assert.equal((await t.http.post(`/api/events/${world.event.id}/attend/`).set(as(m.token))).status, 409);
        const res = await attend(s.id, m.token);
        if (res.status !== 409) wrong.push(`${world === over ? 'over' : 'cancelled'}: ${res.status} ${res.text}`);
        if ((await sessionRecords(s.id)) !== 0) wrong.push(`${world === over ? 'over' : 'cancelled'}: record written`);
      }
      assert.deepEqual(wrong, []);
    });

    it('a session in a room outside the participant’s allowed_rooms: no self attendance (the door refuses too)', async () => {
      const m = await createMember(t, w.event.id);
      const allowed = await createRoom(t, w.event.id);
      const s = await session(w.event.id);
      const patch = await t.http
        .patch(`/api/participants/${m.participant.id}/`)
        .set(org())
        .send({ allowed_rooms: [allowed] });
      assert.equal(patch.status, 200, patch.text);
      // Control: the door denies this badge in that room.
      const door = await scan(s.room, m.qr);
      assert.deepEqual([door.body.status, door.body.reason_code], ['denied', 'ROOM_NOT_ALLOWED']);
      const res = await attend(s.id, m.token);
      assert.ok(
        res.status === 403 || res.status === 409,
        `self attendance in a forbidden room: ${res.status} ${res.text}`,
      );
      assert.equal(await sessionRecords(s.id, m.participant.id), 0);
    });

    it('a paid atelier: no right, pending or refunded → 403 PAYMENT_REQUIRED, nothing written; paid and free attend', async () => {
      const s = await paidAtelier(w.event.id);
      const none = await createMember(t, w.event.id);
      const pending = await createMember(t, w.event.id);
      const refunded = await createMember(t, w.event.id);
      await grant(pending.participant.id, s.id, 'pending');
      await grant(refunded.participant.id, s.id, 'refunded');
      for (const m of [none, pending, refunded]) {
        expectError(await attend(s.id, m.token), 403, 'PAYMENT_REQUIRED');
        assert.equal(await sessionRecords(s.id, m.participant.id), 0);
      }
      for (const status of ['paid', 'free']) {
        const m = await createMember(t, w.event.id);
        await grant(m.participant.id, s.id, status);
        const res = await attend(s.id, m.token);
        assert.equal(res.status, 200, res.text);
        assert.equal(res.body.method, 'self');
      }
      assert.equal(await sessionRecords(s.id), 2);
    });

    it('the current code of one session is refused by another with code attendance open; wrong codes write nothing', async () => {
      const a = await session(w.event.id);
      const b = await session(w.event.id);
      const codeOf = async (id: string): Promise<string> => {
        const res = await t.http.post(`/api/sessions/${id}/attendance-code/`).set(org()).send({});
        assert.equal(res.status, 201, res.text);
        return res.body.code as string;
      };
      const codeA = await codeOf(a.id);
      const codeB = await codeOf(b.id);
      assert.notEqual(codeA, codeB);
      const m = await createMember(t, w.event.id);
      expectError(await attend(b.id, m.token, { code: codeA }), 400, 'CODE_INVALID');
      expectError(await attend(b.id, m.token, { code: '' }), 400, 'VALIDATION_FAILED');
      assert.equal(await sessionRecords(b.id), 0);
      // A code from a previous opening (a new secret since) is no longer valid.
      const [old] = (await t.db.query('SELECT secret, rotates_every FROM attendance_codes WHERE session_id = $1', [
        b.id,
      ])) as { secret: string; rotates_every: number }[];
      await codeOf(b.id);
      const stale = codeFor(old?.secret ?? '', b.id, windowAt(new Date(), old?.rotates_every ?? 45));
      const refused = await attend(b.id, m.token, { code: stale });
      assert.equal(refused.status, 400, refused.text);
      assert.equal(await sessionRecords(b.id), 0);
      // Control: the current code of b works, in lower case with spaces.
      const current = await t.http.get(`/api/sessions/${b.id}/attendance-code/`).set(org());
      const ok = await attend(b.id, m.token, { code: ` ${String(current.body.code).toLowerCase()} ` });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.body.method, 'code');
    });

    it('a code submitted after code attendance was closed: 409 CODE_NOT_OPEN, nothing written; closing twice 404', async () => {
      const s = await session(w.event.id);
      const code = (await t.http.post(`/api/sessions/${s.id}/attendance-code/`).set(org()).send({})).body
        .code as string;
      assert.equal((await t.http.delete(`/api/sessions/${s.id}/attendance-code/`).set(org())).status, 204);
      const m = await createMember(t, w.event.id);
      expectError(await attend(s.id, m.token, { code }), 409, 'CODE_NOT_OPEN');
      assert.equal(await sessionRecords(s.id), 0);
      expectError(await t.http.delete(`/api/sessions/${s.id}/attendance-code/`).set(org()), 404, 'NOT_FOUND');
      expectError(await t.http.get(`/api/sessions/${s.id}/attendance-code/`).set(org()), 404, 'NOT_FOUND');
    });
  });

  // ---------------------------------------------------------------------------------------------------------------
  describe('attendance: concurrency', () => {
    it('30 parallel self attends of one participant to one session: one record, every answer that record', async () => {
      const s = await session(w.event.id);
      const m = await createMember(t, w.event.id);
      const responses = await Promise.all(Array.from({ length: 30 }, () => fire(attend(s.id, m.token))));
      assert.deepEqual(tally(responses), { 200: 30 });
      assert.equal(new Set(responses.map((r) => r.body.id as string)).size, 1, 'one record id for all');
      assert.equal(await sessionRecords(s.id, m.participant.id), 1);
    });

    it('organisateur, gestionnaire and the participant mark one session at once: one record, at most one 201', async () => {
      const s = await session(w.event.id);
      const m = await createMember(t, w.event.id);
      const mark = (role: EventRole) =>
        fire(
          t.http
            .post(`/api/events/${w.event.id}/attendees/`)
            .set(as(w.tokens[role]))
            .send({ participant_id: m.participant.id, session_id: s.id }),
        );
      const responses = await Promise.all([
        ...Array.from({ length: 10 }, () => mark('organisateur')),
        ...Array.from({ length: 10 }, () => mark('gestionnaire_des_salles')),
        ...Array.from({ length: 10 }, () => fire(attend(s.id, m.token))),
      ]);
      const counts = tally(responses);
      assert.equal((counts[200] ?? 0) + (counts[201] ?? 0), 30, JSON.stringify(counts));
      assert.ok((counts[201] ?? 0) <= 1, `at most one 201: ${JSON.stringify(counts)}`);
      assert.equal(new Set(responses.map((r) => r.body.id as string)).size, 1, 'everyone answered the same record');
      assert.equal(await sessionRecords(s.id, m.participant.id), 1);
    });

    it('parallel manual marks of 25 people by two staff: 25 records, each marked once, marked_by set', async () => {
      const people = await Promise.all(Array.from({ length: 25 }, () => createMember(t, w.event.id)));
      const before = await countRows(t, 'attendances', 'event_id = $1 AND session_id IS NULL', [w.event.id]);
      const responses = await Promise.all(
        people.flatMap((p) =>
          MODERATORS.map((role) =>
            fire(
              t.http
                .post(`/api/events/${w.event.id}/attendees/`)
                .set(as(w.tokens[role]))
                .send({ participant_id: p.participant.id }),
            ),
          ),
        ),
      );
      assert.deepEqual(tally(responses), { 200: 25, 201: 25 });
      assert.equal(
        await countRows(t, 'attendances', 'event_id = $1 AND session_id IS NULL', [w.event.id]),
        before + 25,
      );
      assert.equal(
        await countRows(
          t,
          'attendances',
          "event_id = $1 AND session_id IS NULL AND method = 'manual' AND marked_by_id = ANY($2::uuid[]) AND participant_id = ANY($3::uuid[])",
          [w.event.id, MODERATORS.map((r) => w.users[r].id), people.map((p) => p.participant.id)],
        ),
        25,
      );
    });
  });

  // ---------------------------------------------------------------------------------------------------------------
  describe('paid ateliers', () => {
    it('a right revoked while inside: re-entry PAYMENT_REQUIRED, exit still granted, my-ateliers and attend drop it', async () => {
      const s = await paidAtelier(w.event.id);
      const m = await createMember(t, w.event.id);
      const other = await createMember(t, w.event.id);
      const access = await grant(m.participant.id, s.id, 'paid');
      const otherAccess = await grant(other.participant.id, s.id, 'paid');
      const entry = await scan(s.room, m.qr);
      assert.deepEqual([entry.body.status, entry.body.reason_code], ['granted', 'OK'], entry.text);
      assert.equal(await occupancy(s.room), 1);
      const mine = async (token: string) =>
        ((await t.http.get('/api/my-ateliers/').set(as(token))).body.results as { session: string }[]).map(
          (a) => a.session,
        );
      assert.deepEqual(await mine(m.token), [s.id]);

      const refund = await t.http
        .patch(`/api/session-access/${access}/`)
        .set(org())
        .send({ payment_status: 'refunded' });
      assert.equal(refund.status, 200, refund.text);
      assert.equal(refund.body.has_access, false);
      assert.equal(await occupancy(s.room), 1, 'revoking does not move anyone out of the room');
      assert.deepEqual(await mine(m.token), []);

      const again = await scan(s.room, m.qr);
      assert.deepEqual([again.body.status, again.body.reason_code], ['denied', 'PAYMENT_REQUIRED'], again.text);
      const out = await scan(s.room, m.qr, 'out');
      assert.deepEqual([out.body.status, out.body.duplicate], ['granted', false], out.text);
      assert.equal(await occupancy(s.room), 0);

      // Deleting the right of someone else does the same to self attendance.
      assert.equal((await t.http.delete(`/api/session-access/${otherAccess}/`).set(org())).status, 204);
      expectError(await attend(s.id, other.token), 403, 'PAYMENT_REQUIRED');
      assert.equal(await sessionRecords(s.id, other.participant.id), 0);
      const seats: { seats_taken: number }[] = await t.db.query('SELECT seats_taken FROM sessions WHERE id = $1', [
        s.id,
      ]);
      assert.equal(seats[0]?.seats_taken, 0, 'a refunded and a deleted right hold no seat');
    });

    it('grants, status flips and deletions fired together: seats_taken equals the rows holding a seat, ≤ capacity', async () => {
      const CAPACITY = 4;
      const s = await paidAtelier(w.event.id, { capacity: CAPACITY });
      const people = await Promise.all(Array.from({ length: 12 }, () => createMember(t, w.event.id)));
      const held = await Promise.all(people.slice(0, CAPACITY).map((p) => grant(p.participant.id, s.id, 'paid')));
      const patch = (id: string, payment_status: string) =>
        fire(t.http.patch(`/api/session-access/${id}/`).set(org()).send({ payment_status }));
      const post = (p: Member, payment_status: string) =>
        fire(
          t.http
            .post('/api/session-access/')
            .set(org())
            .send({ participant_id: p.participant.id, session_id: s.id, payment_status }),
        );
      const responses = await Promise.all([
        ...held.flatMap((id) => [
          patch(id, 'refunded'),
          patch(id, 'paid'),
          patch(id, 'free'),
          patch(id, 'pending'),
          patch(id, 'refunded'),
        ]),
        fire(t.http.delete(`/api/session-access/${held[0] as string}/`).set(org())),
        ...people.slice(CAPACITY).flatMap((p) => [post(p, 'paid'), post(p, 'pending'), post(p, 'refunded')]),
      ]);
      for (const r of responses) {
        assert.ok([200, 201, 204, 404, 409].includes(r.status), `unexpected ${r.status} ${r.text}`);
      }
      const [row] = (await t.db.query(
        `SELECT s.seats_taken,
                (SELECT count(*)::int FROM session_access a
                  WHERE a.session_id = s.id AND a.payment_status IN ('pending', 'paid', 'free')) AS holding
           FROM sessions s WHERE s.id = $1`,
        [s.id],
      )) as { seats_taken: number; holding: number }[];
      assert.ok(row, 'session row');
      assert.equal(row.seats_taken, row.holding, 'seats_taken equals the rows that hold a seat');
      assert.ok(row.seats_taken <= CAPACITY, `never above capacity: ${row.seats_taken}`);
      // One row per participant at most.
      const dupes = await countRows(
        t,
        '(SELECT participant_id FROM session_access WHERE session_id = $1 GROUP BY 1 HAVING count(*) > 1) d',
        'TRUE',
        [s.id],
      );
      assert.equal(dupes, 0);
    });

    it('the last seat of an atelier wanted by 10 new grants and 5 refunded → paid at once: exactly one gets it', async () => {
      const s = await paidAtelier(w.event.id, { capacity: 3 });
      const people = await Promise.all(Array.from({ length: 17 }, () => createMember(t, w.event.id)));
      for (const p of people.slice(0, 2)) await grant(p.participant.id, s.id, 'paid');
      const refunded = [];
      for (const p of people.slice(2, 7)) refunded.push(await grant(p.participant.id, s.id, 'refunded'));
      const responses = await Promise.all([
        ...people
          .slice(7)
          .map((p) =>
            fire(
              t.http
                .post('/api/session-access/')
                .set(org())
                .send({ participant_id: p.participant.id, session_id: s.id, payment_status: 'paid' }),
            ),
          ),
        ...refunded.map((id) =>
          fire(t.http.patch(`/api/session-access/${id}/`).set(org()).send({ payment_status: 'paid' })),
        ),
      ]);
      const won = responses.filter((r) => r.status === 200 || r.status === 201);
      assert.equal(won.length, 1, JSON.stringify(tally(responses)));
      for (const r of responses.filter((x) => !won.includes(x))) expectError(r, 409, 'ATELIER_FULL');
      const [row] = (await t.db.query(
        `SELECT s.seats_taken, (SELECT count(*)::int FROM session_access a WHERE a.session_id = s.id
                                   AND a.payment_status IN ('pending', 'paid', 'free')) AS holding
           FROM sessions s WHERE s.id = $1`,
        [s.id],
      )) as { seats_taken: number; holding: number }[];
      assert.deepEqual(row, { seats_taken: 3, holding: 3 });
      // Control: refunded rows that lost keep their status; new grants that lost wrote nothing.
      assert.equal(
        await countRows(t, 'session_access', "session_id = $1 AND payment_status = 'refunded'", [s.id]),
        won[0]?.status === 200 ? 4 : 5,
      );
      assert.equal(await countRows(t, 'session_access', 'session_id = $1', [s.id]), won[0]?.status === 201 ? 8 : 7);
    });

    it('a grant to a conference, or with the read-only has_access: 400 naming the field, nothing written', async () => {
      const conference = await session(w.event.id);
      const m = await createMember(t, w.event.id);
      const before = await snapshot(w.event.id);
      expectValidation(
        await t.http
          .post('/api/session-access/')
          .set(org())
          .send({ participant_id: m.participant.id, session_id: conference.id, payment_status: 'paid' }),
        'session_id',
      );
      expectValidation(
        await t.http.post('/api/session-access/').set(org()).send({
          participant_id: m.participant.id,
          session_id: conference.id,
          payment_status: 'paid',
          has_access: true,
        }),
        'has_access',
      );
      assert.deepEqual(await snapshot(w.event.id), before);
    });
  });

  // ---------------------------------------------------------------------------------------------------------------
  describe('questions', () => {
    it('a completed session takes no question (409 SESSION_CLOSED), nothing written', async () => {
      const s = await session(w.event.id, { status: 'completed' });
      const m = await createMember(t, w.event.id);
      expectError(await ask(s.id, m.token), 409, 'SESSION_CLOSED');
      assert.equal(await countRows(t, 'questions', 'session_id = $1', [s.id]), 0);
    });

    it('30 people upvoting, taking back and upvoting again in parallel while moderators flip it: upvotes = vote rows', async () => {
      const s = await session(w.event.id);
      const asker = await createMember(t, w.event.id);
      const q = (await ask(s.id, asker.token)).body.id as string;
      const voters = await Promise.all(Array.from({ length: 30 }, () => createMember(t, w.event.id)));
      const vote = (token: string, add: boolean) =>
        fire(
          add
            ? t.http.post(`/api/questions/${q}/upvote/`).set(as(token))
            : t.http.delete(`/api/questions/${q}/upvote/`).set(as(token)),
        );
      const moderate = (status: string) => fire(t.http.patch(`/api/questions/${q}/`).set(org()).send({ status }));
      const responses = await Promise.all([
        ...voters.flatMap((v) => [vote(v.token, true), vote(v.token, false), vote(v.token, true)]),
        ...Array.from({ length: 6 }, (_, i) => moderate(i % 2 ? 'approved' : 'hidden')),
      ]);
      for (const r of responses) assert.ok([200, 404].includes(r.status), `unexpected ${r.status} ${r.text}`);
      await moderate('approved');
      const [row] = (await t.db.query(
        `SELECT q.upvotes, (SELECT count(*)::int FROM question_upvotes v WHERE v.question_id = q.id) AS rows
           FROM questions q WHERE q.id = $1`,
        [q],
      )) as { upvotes: number; rows: number }[];
      assert.ok(row);
      assert.equal(row.upvotes, row.rows, 'the counter equals the vote rows');
      const listed = await t.http.get(`/api/sessions/${s.id}/questions/`).set(as(asker.token));
      assert.equal((listed.body.results as { upvotes: number }[])[0]?.upvotes, row.rows);
    });

    it('hidden and pending questions take no vote (404) and keep their counter', async () => {
      const s = await session(w.event.id);
      const asker = await createMember(t, w.event.id);
      const voter = await createMember(t, w.event.id);
      const q = (await ask(s.id, asker.token)).body.id as string;
      assert.equal((await t.http.post(`/api/questions/${q}/upvote/`).set(as(voter.token))).status, 200);
      for (const status of ['hidden', 'pending']) {
        assert.equal((await t.http.patch(`/api/questions/${q}/`).set(org()).send({ status })).status, 200);
        const before = await snapshot(w.event.id);
        const other = await createMember(t, w.event.id);
        expectError(await t.http.post(`/api/questions/${q}/upvote/`).set(as(other.token)), 404, 'NOT_FOUND');
        expectError(await t.http.delete(`/api/questions/${q}/upvote/`).set(as(voter.token)), 404, 'NOT_FOUND');
        // The other voter is a new member: compare the question rows only.
        const after = (await snapshot(w.event.id)) as { questions: unknown; upvotes: unknown };
        assert.deepEqual(after.questions, (before as { questions: unknown }).questions);
        assert.deepEqual(after.upvotes, (before as { upvotes: unknown }).upvotes);
      }
    });

    it('an answered question hidden by mistake and approved again is still answered, with its answer', async () => {
      const s = await session(w.event.id);
      const asker = await createMember(t, w.event.id);
      const q = (await ask(s.id, asker.token)).body.id as string;
      const answered = await t.http
        .patch(`/api/questions/${q}/answer/`)
        .set(org())
        .send({ answer_text: 'Forty minutes.' });
      assert.equal(answered.body.status, 'answered');
      assert.equal((await t.http.patch(`/api/questions/${q}/`).set(org()).send({ status: 'hidden' })).status, 200);
      const back = await t.http.patch(`/api/questions/${q}/`).set(org()).send({ status: 'approved' });
      assert.equal(back.status, 200, back.text);
      assert.equal(back.body.answer_text, 'Forty minutes.');
      assert.equal(back.body.status, 'answered', `restored question: ${back.text}`);
    });

    it('over-long answers, unknown fields in moderation and answers, a body on upvote: 400, nothing changed', async () => {
      const s = await session(w.event.id);
      const asker = await createMember(t, w.event.id);
      const voter = await createMember(t, w.event.id);
      const q = (await ask(s.id, asker.token)).body.id as string;
      const before = await snapshot(w.event.id);
      expectValidation(
        await t.http
          .patch(`/api/questions/${q}/answer/`)
          .set(org())
          .send({ answer_text: 'x'.repeat(5001) }),
        'answer_text',
      );
      expectValidation(
        await t.http.patch(`/api/questions/${q}/answer/`).set(org()).send({ answer_text: ' \n\t ' }),
        'answer_text',
      );
      expectValidation(
        await t.http.patch(`/api/questions/${q}/answer/`).set(org()).send({ answer_text: 'ok', status: 'hidden' }),
        'status',
      );
      expectValidation(
        await t.http.patch(`/api/questions/${q}/`).set(org()).send({ status: 'approved', upvotes: 1000 }),
        'upvotes',
      );
      expectValidation(
        await t.http.patch(`/api/questions/${q}/`).set(org()).send({ status: 'approved', answer_text: 'sneaky' }),
        'answer_text',
      );
      expectValidation(await t.http.patch(`/api/questions/${q}/`).set(org()).send({ status: null }), 'status');
      expectValidation(
        await t.http.post(`/api/questions/${q}/upvote/`).set(as(voter.token)).send({ user_id: asker.user.id }),
        'user_id',
      );
      expectValidation(
        await t.http
          .post(`/api/sessions/${s.id}/questions/`)
          .set(as(voter.token))
          .send({ question_text: 'x', session_id: s.id }),
        'session_id',
      );
      assert.deepEqual(await snapshot(w.event.id), before);
    });
  });

  // ---------------------------------------------------------------------------------------------------------------
  describe('exhibitor leads', () => {
    it('two exhibitors scanning the same visitors in parallel: one lead each, statistics equal the rows', async () => {
      const exhibitors = await Promise.all([0, 1].map(() => createMember(t, w.event.id, 'exposant')));
      const visitors = await Promise.all(Array.from({ length: 5 }, () => createMember(t, w.event.id)));
      const REPEATS = 6;
      const responses = await Promise.all(
        exhibitors.flatMap((e) =>
          visitors.flatMap((v) =>
            Array.from({ length: REPEATS }, (_, i) =>
              fire(
                t.http
                  .post(i % 2 ? '/api/exposant/scan/' : '/api/exposant-scans/scan_participant/')
                  .set(as(e.token))
                  .send({ qr_data: v.qr, rating: i % 6 }),
              ),
            ),
          ),
        ),
      );
      assert.deepEqual(tally(responses), { 201: 10, 200: 10 * (REPEATS - 1) });
      for (const e of exhibitors) {
        const leads = await countRows(t, 'exposant_scans', 'event_id = $1 AND exposant_user_id = $2', [
          w.event.id,
          e.user.id,
        ]);
        assert.equal(leads, 5);
        const visits = await countRows(
          t,
          'exposant_scan_visits v JOIN exposant_scans s ON s.id = v.scan_id',
          's.exposant_user_id = $1',
          [e.user.id],
        );
        const stats = await t.http.get('/api/exposant/statistics/').set(as(e.token));
        assert.equal(stats.status, 200, stats.text);
        assert.deepEqual(
          [stats.body.total_visits, stats.body.unique_visitors, stats.body.today_visits, visits],
          [5 * REPEATS, 5, 5 * REPEATS, 5 * REPEATS],
        );
        const list = await t.http.get('/api/exposant/scans/?page_size=100').set(as(e.token));
        assert.deepEqual(
          (list.body.results as { scan_count: number }[]).map((l) => l.scan_count),
          Array.from({ length: 5 }, () => REPEATS),
        );
      }
    });

    it('a visitor of this event scanned by an exhibitor whose token is for another event: 404, nothing written', async () => {
      const other = await createWorld(t);
      const visitor = await createMember(t, w.event.id);
      const before = await snapshot(w.event.id);
      const beforeOther = await snapshot(other.event.id);
      expectError(
        await t.http.post('/api/exposant/scan/').set(as(other.tokens.exposant)).send({ qr_data: visitor.qr }),
        404,
        'BADGE_UNKNOWN',
      );
      assert.deepEqual(await snapshot(w.event.id), before);
      assert.deepEqual(await snapshot(other.event.id), beforeOther);
    });
  });

  // ---------------------------------------------------------------------------------------------------------------
  describe('registrations', () => {
    const stranger = async () => {
      const user = await createUser(t);
      return { id: user.id, token: (await openSession(t, user.id, null)).access };
    };

    it('the same people registering and cancelling in parallel: counter = confirmed rows, confirmed ⇔ role and badge', async () => {
      const CAPACITY = 3;
      const event = await createEvent(t, { registrationOpen: true, capacity: CAPACITY });
      const people = await Promise.all(Array.from({ length: 10 }, () => stranger()));
      const register = (token: string) => fire(t.http.post(`/api/events/${event.id}/register/`).set(as(token)));
      const cancel = (token: string) => fire(t.http.delete(`/api/events/${event.id}/register/`).set(as(token)));
      for (let round = 0; round < 2; round++) {
        const responses = await Promise.all(
          people.flatMap((p) => [
            register(p.token),
            cancel(p.token),
            register(p.token),
            cancel(p.token),
            register(p.token),
          ]),
        );
        for (const r of responses) {
          assert.ok([200, 201, 204, 404].includes(r.status), `unexpected ${r.status} ${r.text}`);
        }
        const [e] = (await t.db.query('SELECT registered_count FROM events WHERE id = $1', [event.id])) as {
          registered_count: number;
        }[];
        const confirmed = await countRows(t, 'event_registrations', "event_id = $1 AND status = 'confirmed'", [
          event.id,
        ]);
        const waiting = await countRows(t, 'event_registrations', "event_id = $1 AND status = 'waitlisted'", [
          event.id,
        ]);
        assert.equal(e?.registered_count, confirmed, 'registered_count equals the confirmed rows');
        assert.ok(confirmed <= CAPACITY);
        if (confirmed < CAPACITY) assert.equal(waiting, 0, 'nobody waits while a seat is free');
        const mismatched: unknown[] = await t.db.query(
          `SELECT u.id, r.status, a.role, p.id AS badge
             FROM unnest($2::uuid[]) AS u(id)
             LEFT JOIN event_registrations r ON r.event_id = $1 AND r.user_id = u.id
             LEFT JOIN user_event_assignments a ON a.event_id = $1 AND a.user_id = u.id
             LEFT JOIN participants p ON p.event_id = $1 AND p.user_id = u.id
            WHERE (r.status = 'confirmed') IS DISTINCT FROM (a.role = 'participant' AND p.id IS NOT NULL)
              AND NOT (r.status IS DISTINCT FROM 'confirmed' AND a.role IS NULL AND p.id IS NULL)`,
          [event.id, people.map((p) => p.id)],
        );
        assert.deepEqual(mismatched, [], 'confirmed exactly when participant with a badge');
        // Positions told to the waiting list are 1..n without gaps.
        const positions = (
          await Promise.all(people.map((p) => t.http.get(`/api/events/${event.id}/registration/`).set(as(p.token))))
        )
          .filter((r) => r.status === 200 && r.body.status === 'waitlisted')
          .map((r) => r.body.position as number)
          .sort((a, b) => a - b);
        assert.deepEqual(
          positions,
          Array.from({ length: waiting }, (_, i) => i + 1),
        );
      }
    });

    it('a body on register or cancel is refused (400), nothing written', async () => {
      const event = await createEvent(t, { registrationOpen: true, capacity: 5 });
      const p = await stranger();
      expectValidation(
        await t.http.post(`/api/events/${event.id}/register/`).set(as(p.token)).send({ status: 'confirmed' }),
        'status',
      );
      assert.equal(await countRows(t, 'event_registrations', 'event_id = $1', [event.id]), 0);
      assert.equal((await t.http.post(`/api/events/${event.id}/register/`).set(as(p.token))).status, 201);
      expectValidation(
        await t.http
          .delete(`/api/events/${event.id}/register/`)
          .set(as(p.token))
          .send({ user_id: w.users.participant.id }),
        'user_id',
      );
      assert.equal(await countRows(t, 'event_registrations', "event_id = $1 AND status = 'confirmed'", [event.id]), 1);
    });
  });

  // ---------------------------------------------------------------------------------------------------------------
  describe('scope and roles', () => {
    interface Fixture {
      session: string;
      question: string;
      attendance: string;
      access: string;
      lead: string;
      participant: string;
    }
    let A: Fixture;
    let B: World;

    before(async () => {
      B = await createWorld(t);
      const s = await session(w.event.id);
      const atelier = await paidAtelier(w.event.id);
      const asker = await createMember(t, w.event.id);
      const visitor = await createMember(t, w.event.id);
      const question = (await ask(s.id, asker.token)).body.id as string;
      const attendance = (
        await t.http
          .post(`/api/events/${w.event.id}/attendees/`)
          .set(org())
          .send({ participant_id: visitor.participant.id, session_id: s.id })
      ).body.id as string;
      const access = await grant(visitor.participant.id, atelier.id, 'pending');
      const lead = (await t.http.post('/api/exposant/scan/').set(as(w.tokens.exposant)).send({ qr_data: visitor.qr }))
        .body.id as string;
      assert.equal((await t.http.post(`/api/sessions/${s.id}/attendance-code/`).set(org()).send({})).status, 201);
      A = { session: s.id, question, attendance, access, lead, participant: visitor.participant.id };
    });

    /** The routes of API.md with an id of event A, and who may call each (per API.md). */
    interface Route {
      method: string;
      path: string;
      body?: Body;
      /** Who may call it on their own event's object (API.md). */
      roles: EventRole[];
      /** Who passes the role check when the object is of another event (then 404); default `roles`. */
      guardRoles?: EventRole[];
    }
    const routes = (eventId: string): Route[] => [
      { method: 'GET', path: `/api/sessions/${A.session}/questions/`, roles: ALL },
      {
        method: 'POST',
        path: `/api/sessions/${A.session}/questions/`,
        body: { question_text: 'x?' },
        roles: ['participant', 'exposant'],
      },
      { method: 'POST', path: `/api/questions/${A.question}/upvote/`, roles: ['participant', 'exposant'] },
      { method: 'DELETE', path: `/api/questions/${A.question}/upvote/`, roles: ['participant', 'exposant'] },
      { method: 'PATCH', path: `/api/questions/${A.question}/`, body: { status: 'hidden' }, roles: MODERATORS },
      { method: 'PATCH', path: `/api/questions/${A.question}/answer/`, body: { answer_text: 'no' }, roles: MODERATORS },
      // "author or moderator": anyone may try; a question of another event does not exist for them.
      { method: 'DELETE', path: `/api/questions/${A.question}/`, roles: MODERATORS, guardRoles: ALL },
      { method: 'POST', path: `/api/sessions/${A.session}/attend/`, body: {}, roles: ['participant'] },
      { method: 'GET', path: `/api/sessions/${A.session}/attendees/`, roles: STAFF },
      { method: 'POST', path: `/api/sessions/${A.session}/attendance-code/`, body: {}, roles: MODERATORS },
      { method: 'GET', path: `/api/sessions/${A.session}/attendance-code/`, roles: STAFF },
      { method: 'DELETE', path: `/api/sessions/${A.session}/attendance-code/`, roles: MODERATORS },
      { method: 'GET', path: `/api/events/${w.event.id}/attendees/`, roles: MODERATORS },
      {
        method: 'POST',
        path: `/api/events/${w.event.id}/attendees/`,
        body: { participant_id: A.participant },
        roles: MODERATORS,
      },
      {
        method: 'DELETE',
        path: `/api/events/${eventId}/attendees/${A.attendance}/`,
        body: { reason: 'cross-event' },
        roles: ['organisateur'],
      },
      { method: 'GET', path: `/api/events/${w.event.id}/check-attendance/`, roles: ALL },
      { method: 'POST', path: `/api/events/${w.event.id}/attend/`, body: {}, roles: ['participant'] },
      { method: 'GET', path: `/api/events/${w.event.id}/attendance.csv`, roles: ['organisateur'] },
      { method: 'GET', path: `/api/events/${w.event.id}/registrations/`, roles: ['organisateur'] },
      { method: 'GET', path: `/api/session-access/${A.access}/`, roles: ['organisateur'] },
      {
        method: 'PATCH',
        path: `/api/session-access/${A.access}/`,
        body: { payment_status: 'paid' },
        roles: ['organisateur'],
      },
      { method: 'DELETE', path: `/api/session-access/${A.access}/`, roles: ['organisateur'] },
      { method: 'PATCH', path: `/api/exposant/scans/${A.lead}/`, body: { notes: 'mine now' }, roles: ['exposant'] },
    ];
    const call = (method: string, path: string, token: string, body?: Body): Test => {
      const req = t.http[method.toLowerCase() as 'get' | 'post' | 'patch' | 'delete'](path).set(as(token));
      return body === undefined ? req : req.send(body);
    };

    it('every route with ids of event A and a token of event B: 404 for the roles it admits, 403 for others; A unchanged', async () => {
      const before = await snapshot(w.event.id);
      const beforeB = await snapshot(B.event.id);
      const wrong: string[] = [];
      for (const route of routes(B.event.id)) {
        for (const role of EVENT_ROLES) {
          const res: Response = await call(route.method, route.path, B.tokens[role], route.body);
          const expected = (route.guardRoles ?? route.roles).includes(role) ? 404 : 403;
          if (res.status !== expected) wrong.push(`${role} ${route.method} ${route.path}: ${res.status} ${res.text}`);
          else expectError(res, expected, expected === 404 ? 'NOT_FOUND' : 'FORBIDDEN');
        }
      }
      assert.deepEqual(wrong, []);
      assert.deepEqual(await snapshot(w.event.id), before, 'nothing of event A changed');
      assert.deepEqual(await snapshot(B.event.id), beforeB, 'nothing written into event B');
    });

    it('the roles API.md does not admit get 403 on their own event and nothing changes', async () => {
      const before = await snapshot(w.event.id);
      const wrong: string[] = [];
      for (const route of routes(w.event.id)) {
        for (const role of EVENT_ROLES.filter((r) => !route.roles.includes(r))) {
          const res = await call(route.method, route.path, w.tokens[role], route.body);
          if (res.status !== 403) wrong.push(`${role} ${route.method} ${route.path}: ${res.status} ${res.text}`);
          else expectError(res, 403, 'FORBIDDEN');
        }
      }
      assert.deepEqual(wrong, []);
      assert.deepEqual(await snapshot(w.event.id), before);
    });

    it('ids of event B in bodies and filters of event A: 400 naming the field (or an empty page), nothing written', async () => {
      const strangerB = await createMember(t, B.event.id);
      const sessionB = await session(B.event.id);
      const before = await snapshot(w.event.id);
      expectValidation(
        await t.http
          .post(`/api/events/${w.event.id}/attendees/`)
          .set(as(w.tokens.gestionnaire_des_salles))
          .send({ participant_id: strangerB.participant.id }),
        'participant_id',
      );
      expectValidation(
        await t.http
          .post('/api/session-access/')
          .set(org())
          .send({ participant_id: A.participant, session_id: sessionB.id, payment_status: 'free' }),
        'session_id',
      );
      for (const path of [
        `/api/events/${w.event.id}/attendees/?session=${sessionB.id}`,
        `/api/session-access/?session=${sessionB.id}`,
        `/api/session-access/?participant=${strangerB.participant.id}`,
      ]) {
        const res = await t.http.get(path).set(org());
        assert.equal(res.status, 200, `${path}: ${res.text}`);
        assert.equal(res.body.count, 0, path);
      }
      expectValidation(await t.http.get(`/api/session-access/?event=${B.event.id}`).set(org()), 'event');
      assert.deepEqual(await snapshot(w.event.id), before);
    });
  });

  // ---------------------------------------------------------------------------------------------------------------
  describe('input', () => {
    let s: string;
    before(async () => {
      s = (await session(w.event.id)).id;
    });

    const lists = (): { path: string; role: EventRole; search: boolean }[] => [
      { path: `/api/events/${w.event.id}/registrations/`, role: 'organisateur', search: true },
      { path: '/api/session-access/', role: 'organisateur', search: false },
      { path: '/api/my-ateliers/', role: 'participant', search: false },
      { path: `/api/events/${w.event.id}/attendees/`, role: 'organisateur', search: false },
      { path: `/api/sessions/${s}/attendees/`, role: 'controlleur_des_badges', search: false },
      { path: `/api/sessions/${s}/questions/`, role: 'participant', search: false },
      { path: '/api/exposant/scans/', role: 'exposant', search: true },
      { path: '/api/participants/', role: 'gestionnaire_des_salles', search: true },
    ];

    it('bad page, page_size and unknown parameters on every list: 400 naming them, never a 500', async () => {
      const cases: [string, string][] = [
        ['page=-1', 'page'],
        ['page=0', 'page'],
        ['page=abc', 'page'],
        ['page=1.5', 'page'],
        ['page=1e20', 'page'],
        ['page=1&page=2', 'page'],
        ['page_size=-5', 'page_size'],
        ['page_size=0', 'page_size'],
        ['page_size=2.5', 'page_size'],
        ['hack=1', 'hack'],
        ['event_id=1', 'event_id'],
        [`search=${'x'.repeat(201)}`, 'search'],
      ];
      const wrong: string[] = [];
      for (const list of lists()) {
        for (const [query, field] of cases) {
          const res = await t.http.get(`${list.path}?${query}`).set(as(w.tokens[list.role]));
          if (res.status !== 400 || !(res.body.errors as Body | undefined)?.[field]) {
            wrong.push(`${list.path}?${query.slice(0, 40)}: ${res.status} ${res.text.slice(0, 160)}`);
          } else expectValidation(res, field);
        }
        // Controls: far pages are empty, huge page sizes are clamped, a NUL byte is a 400 of the documented shape.
        const far = await t.http.get(`${list.path}?page=999999`).set(as(w.tokens[list.role]));
        assert.equal(far.status, 200, `${list.path}: ${far.text}`);
        assert.deepEqual(far.body.results, []);
        // API.md: "max 100; larger values are clamped" — also one too large for a double.
        for (const size of ['100000', '1e400']) {
          const clamped = await t.http.get(`${list.path}?page_size=${size}`).set(as(w.tokens[list.role]));
          assert.equal(clamped.status, 200, `${list.path}: ${clamped.text}`);
          assert.ok((clamped.body.results as unknown[]).length <= 100);
        }
        if (list.search) {
          const nul = await t.http.get(list.path).query({ search: 'a\u0000b' }).set(as(w.tokens[list.role]));
          expectError(nul, 400, nul.body.code as string);
          const wild = await t.http.get(list.path).query({ search: "%_\\' OR 1=1 --" }).set(as(w.tokens[list.role]));
          assert.equal(wild.status, 200, wild.text);
          assert.equal(wild.body.count, 0, `${list.path}: LIKE wildcards and quotes match literally`);
        }
      }
      assert.deepEqual(wrong, []);
    });

    it('an ordering a list does not offer is a 400 naming ordering, on every list (never silently ignored)', async () => {
      const wrong: string[] = [];
      for (const list of lists()) {
        for (const ordering of ['id', "'; DROP TABLE users; --", '-', 'password_hash']) {
          const res = await t.http.get(list.path).query({ ordering }).set(as(w.tokens[list.role]));
          if (res.status !== 400 || !(res.body.errors as Body | undefined)?.ordering) {
            wrong.push(`${list.path} ordering=${ordering}: ${res.status}`);
          }
        }
      }
      assert.deepEqual(wrong, []);
    });

    it('search on a list that does not offer it: refused (400) or applied, never silently ignored', async () => {
      // Every list below holds one row for `alice`; a search matching nobody must not answer that row.
      const sess = await session(w.event.id);
      const alice = await createMember(t, w.event.id);
      await t.http
        .post(`/api/events/${w.event.id}/attendees/`)
        .set(org())
        .send({ participant_id: alice.participant.id, session_id: sess.id });
      const atelier = await paidAtelier(w.event.id);
      await grant(alice.participant.id, atelier.id, 'free');
      assert.equal((await ask(sess.id, alice.token)).status, 201);
      const wrong: string[] = [];
      for (const [path, token] of [
        [`/api/events/${w.event.id}/attendees/?session=${sess.id}&`, w.tokens.organisateur],
        [`/api/sessions/${sess.id}/attendees/?`, w.tokens.organisateur],
        [`/api/session-access/?session=${atelier.id}&`, w.tokens.organisateur],
        ['/api/my-ateliers/?', alice.token],
        [`/api/sessions/${sess.id}/questions/?`, alice.token],
      ] as [string, string][]) {
        const control = await t.http.get(path).set(as(token));
        assert.equal(control.body.count, 1, `control ${path}: ${control.text}`);
        const res = await t.http.get(`${path}search=NoSuchNameQx`).set(as(token));
        if (res.status === 200 && res.body.count !== 0)
          wrong.push(`${path}search=…: ${res.body.count} result(s), not filtered`);
        else if (res.status !== 200 && res.status !== 400) wrong.push(`${path}: ${res.status}`);
      }
      assert.deepEqual(wrong, []);
    });

    it('unknown, read-only and over-long fields in attendance bodies: 400 naming them, nothing written', async () => {
      const m = await createMember(t, w.event.id);
      const mark = (body: Body) =>
        t.http
          .post(`/api/events/${w.event.id}/attendees/`)
          .set(org())
          .send({ participant_id: m.participant.id, ...body });
      const before = await snapshot(w.event.id);
      expectValidation(await mark({ method: 'self' }), 'method');
      expectValidation(await mark({ marked_by: w.users.participant.id }), 'marked_by');
      expectValidation(await mark({ attended_at: new Date().toISOString() }), 'attended_at');
      expectValidation(await mark({ note: 'x'.repeat(501) }), 'note');
      expectValidation(await mark({ session_id: 'not-a-uuid' }), 'session_id');
      expectValidation(await attend(s, m.token, { code: 'X'.repeat(33) }), 'code');
      expectValidation(await attend(s, m.token, { method: 'manual' }), 'method');
      expectValidation(await attend(s, m.token, { latitude: 'NaN', longitude: 3 }), 'latitude');
      expectValidation(await attend(s, m.token, { latitude: 1e308, longitude: 3 }), 'latitude');
      expectValidation(
        await t.http.post(`/api/sessions/${s}/attendance-code/`).set(org()).send({ rotates_every: 5 }),
        'rotates_every',
      );
      expectValidation(
        await t.http.post(`/api/sessions/${s}/attendance-code/`).set(org()).send({ code: 'AAAAAA' }),
        'code',
      );
      expectValidation(
        await t.http.post(`/api/sessions/${s}/attendance-code/`).set(org()).send({ rotates_every: 45.5 }),
        'rotates_every',
      );
      assert.deepEqual(await snapshot(w.event.id), before);
      const record = (await mark({})).body.id as string;
      const del = (body: Body) => t.http.delete(`/api/events/${w.event.id}/attendees/${record}/`).set(org()).send(body);
      expectValidation(await del({ reason: 'x'.repeat(501) }), 'reason');
      expectValidation(await del({ reason: 'ok', participant_id: m.participant.id }), 'participant_id');
      expectValidation(await del({ reason: 42 }), 'reason');
      assert.equal(await countRows(t, 'attendances', 'id = $1', [record]), 1);
    });
  });
});
