import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import { STAFF_ROLES, type EventRole } from '../src/common/auth/event-role';
import type { Ack } from '../src/realtime/realtime.events';
import {
  assign,
  bearer,
  countRows,
  createMember,
  createRoom,
  createSession,
  createUser,
  createWorld,
  openSession,
  type World,
} from './helpers/factories';
import {
  closeAllClients,
  expectOk,
  expectRefused,
  connect,
  disconnection,
  recorder,
  request,
  sleep,
  type ClientSocket,
} from './helpers/sockets';
import { bootTestApp, forgetCachedSessions, type TestApp } from './helpers/test-app';

/*
 * Client → server events and their acknowledgements: `{ok: true, data?}` or `{ok: false, error: {code, message}}`.
 * Each refusal also checks that nothing was written. The main app has a generous message budget so that only the
 * rate-limit describe (its own app) meets the limiter.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const QUIET_MS = 400;

type Body = Record<string, unknown>;

/** A client event with any number of arguments (the acknowledgement comes last). */
function rawRequest(socket: ClientSocket, event: string, ...args: unknown[]): Promise<Ack<unknown>> {
  return (
    socket.timeout(5000) as unknown as { emitWithAck(e: string, ...a: unknown[]): Promise<Ack<unknown>> }
  ).emitWithAck(event, ...args);
}

describe('realtime client events', () => {
  let t: TestApp;
  let w: World;
  let other: World;

  const runningSession = async (eventId = w.event.id, opts: Parameters<typeof createSession>[3] = {}) => {
    const room = await createRoom(t, eventId);
    return createSession(t, eventId, room, {
      start: new Date(Date.now() - 10 * MINUTE),
      end: new Date(Date.now() + HOUR),
      ...opts,
    });
  };
  const attendances = (sessionId: string) => countRows(t, 'attendances', 'session_id = $1', [sessionId]);
  const sessionRow = async (id: string) => {
    const rows: { title: string; status: string; updated_at: Date }[] = await t.db.query(
      'SELECT title, status, updated_at FROM sessions WHERE id = $1',
      [id],
    );
    return rows[0];
  };

  before(async () => {
    t = await bootTestApp({ SOCKET_MESSAGES_PER_SEC: '500' });
    w = await createWorld(t);
    other = await createWorld(t);
  });
  afterEach(() => closeAllClients());
  after(async () => {
    closeAllClients();
    await t.close();
  });

  describe('joinSession and leaveSession', () => {
    it('acknowledge a session of the event with its id', async () => {
      const session = await createSession(t, w.event.id, await createRoom(t, w.event.id));
      const socket = await connect(t, w.tokens.participant);
      assert.deepEqual(await request(socket, 'joinSession', { session_id: session }), {
        ok: true,
        data: { session_id: session },
      });
      assert.deepEqual(await request(socket, 'leaveSession', { session_id: session }), {
        ok: true,
        data: { session_id: session },
      });
    });

    it('an unknown session and another event’s session are NOT_FOUND, and the socket does not join it', async () => {
      const socket = await connect(t, w.tokens.participant);
      expectRefused(await request(socket, 'joinSession', { session_id: randomUUID() }), 'NOT_FOUND');
      const theirs = await createSession(t, other.event.id, await createRoom(t, other.event.id));
      const watcher = await connect(t, other.tokens.participant);
      expectOk(await request(watcher, 'joinSession', { session_id: theirs }));
      const joined = recorder(watcher, 'userJoined');
      expectRefused(await request(socket, 'joinSession', { session_id: theirs }), 'NOT_FOUND');
      // Control: a member of that event joining is announced, so the refused join would have been too.
      const member = await connect(t, other.tokens.exposant);
      expectOk(await request(member, 'joinSession', { session_id: theirs }));
      await joined.next();
      await sleep(QUIET_MS);
      assert.deepEqual(
        joined.received.map((j) => j.user.id),
        [other.users.exposant.id],
      );
    });

    it('malformed payloads are VALIDATION_FAILED', async () => {
      const session = await createSession(t, w.event.id, await createRoom(t, w.event.id));
      const socket = await connect(t, w.tokens.participant);
      const bad: [string, unknown, string?][] = [
        ['a string', 'abc'],
        ['a number', 42],
        ['null', null],
        ['an array', [{ session_id: session }]],
        ['a boolean', true],
        ['a missing field', {}, 'session_id'],
        ['a non-uuid', { session_id: 'nope' }, 'session_id'],
        ['a number id', { session_id: 42 }, 'session_id'],
        ['an object id', { session_id: { $ne: null } }, 'session_id'],
        ['an extra field', { session_id: session, role: 'organisateur' }, 'role'],
      ];
      for (const event of ['joinSession', 'leaveSession']) {
        for (const [what, payload, field] of bad) {
          const error = expectRefused(await request(socket, event, payload), 'VALIDATION_FAILED');
          if (field) assert.ok(error.errors?.[field]?.length, `${event} with ${what}: errors.${field}`);
        }
        // No payload at all, and two payloads.
        expectRefused(await rawRequest(socket, event), 'VALIDATION_FAILED');
        expectRefused(
          await rawRequest(socket, event, { session_id: session }, { session_id: session }),
          'VALIDATION_FAILED',
        );
      }
      // Control: the socket still answers a well-formed message.
      expectOk(await request(socket, 'joinSession', { session_id: session }));
    });
  });

  describe('joinRoom', () => {
    it('staff roles get the room’s occupancy and capacity', async () => {
      const room = await createRoom(t, w.event.id, { capacity: 40 });
      const m = await createMember(t, w.event.id);
      const scan = await t.http
        .post(`/api/rooms/${room}/verify_access/`)
        .set(bearer(w.tokens.organisateur))
        .send({ qr_data: m.qr });
      assert.equal(scan.body.status, 'granted');
      for (const role of STAFF_ROLES) {
        const socket = await connect(t, w.tokens[role]);
        assert.deepEqual(expectOk(await request(socket, 'joinRoom', { room_id: room })), {
          room_id: room,
          current_participants: 1,
          capacity: 40,
        });
      }
    });

    it('participant and exposant are FORBIDDEN and get no occupancy of the room', async () => {
      const room = await createRoom(t, w.event.id);
      const refused: ClientSocket[] = [];
      for (const role of ['participant', 'exposant'] as EventRole[]) {
        const socket = await connect(t, w.tokens[role]);
        expectRefused(await request(socket, 'joinRoom', { room_id: room }), 'FORBIDDEN');
        refused.push(socket);
      }
      const leaks = refused.map((s) => recorder(s, 'roomOccupancy'));
      const staff = await connect(t, w.tokens.controlleur_des_badges);
      const occ = recorder(staff, 'roomOccupancy');
      const m = await createMember(t, w.event.id);
      await t.http
        .post(`/api/rooms/${room}/verify_access/`)
        .set(bearer(w.tokens.organisateur))
        .send({ qr_data: m.qr })
        .expect(200);
      await occ.next((x) => x.room_id === room);
      await sleep(QUIET_MS);
      for (const leak of leaks) assert.equal(leak.received.length, 0);
    });

    it('another event’s room and an unknown room are NOT_FOUND; a malformed one VALIDATION_FAILED', async () => {
      const theirs = await createRoom(t, other.event.id);
      const socket = await connect(t, w.tokens.organisateur);
      const leak = recorder(socket, 'roomOccupancy');
      expectRefused(await request(socket, 'joinRoom', { room_id: theirs }), 'NOT_FOUND');
      expectRefused(await request(socket, 'joinRoom', { room_id: randomUUID() }), 'NOT_FOUND');
      expectRefused(await request(socket, 'joinRoom', { room_id: 'room-1' }), 'VALIDATION_FAILED');
      expectRefused(await request(socket, 'joinRoom', { session_id: theirs }), 'VALIDATION_FAILED');
      // Control: the other event's staff see that room's occupancy; the refused socket does not.
      const theirStaff = await connect(t, other.tokens.organisateur);
      const occ = recorder(theirStaff, 'roomOccupancy');
      const m = await createMember(t, other.event.id);
      await t.http
        .post(`/api/rooms/${theirs}/verify_access/`)
        .set(bearer(other.tokens.organisateur))
        .send({ qr_data: m.qr })
        .expect(200);
      await occ.next((x) => x.room_id === theirs);
      await sleep(QUIET_MS);
      assert.equal(leak.received.length, 0);
    });
  });

  describe('markAttendance', () => {
    type Marked = { session_id: string; attendance: Body & { id: string }; created: boolean };

    it('a participant in a running session is marked once; a repeat answers the same record', async () => {
      const session = await runningSession();
      const p = await createMember(t, w.event.id);
      const socket = await connect(t, p.token);
      const first = expectOk(
        await request<Marked>(socket, 'markAttendance', { session_id: session, latitude: 36.75, longitude: 3.06 }),
      );
      assert.equal(first.session_id, session);
      assert.equal(first.created, true);
      assert.equal(first.attendance.participant_id, p.participant.id);
      assert.equal(first.attendance.session_id, session);
      assert.equal(first.attendance.method, 'self');
      const again = expectOk(await request<Marked>(socket, 'markAttendance', { session_id: session }));
      assert.equal(again.created, false);
      assert.equal(again.attendance.id, first.attendance.id);
      const rows: { latitude: string; longitude: string }[] = await t.db.query(
        'SELECT latitude, longitude FROM attendances WHERE session_id = $1',
        [session],
      );
      assert.equal(rows.length, 1);
      assert.deepEqual([Number(rows[0]?.latitude), Number(rows[0]?.longitude)], [36.75, 3.06]);
    });

    it('outside the window: SESSION_NOT_STARTED (with seconds_until_start), SESSION_ENDED, SESSION_CANCELLED', async () => {
      const p = await createMember(t, w.event.id);
      const socket = await connect(t, p.token);
      const soon = await createSession(t, w.event.id, await createRoom(t, w.event.id), {
        start: new Date(Date.now() + HOUR),
      });
      const early = expectRefused(await request(socket, 'markAttendance', { session_id: soon }), 'SESSION_NOT_STARTED');
      const until = early.seconds_until_start as number;
      assert.ok(until > 3500 && until <= 3600, `seconds_until_start ${until}`);

      const past = await createSession(t, w.event.id, await createRoom(t, w.event.id), {
        start: new Date(Date.now() - 2 * HOUR),
        end: new Date(Date.now() - 10 * MINUTE),
      });
      const late = expectRefused(await request(socket, 'markAttendance', { session_id: past }), 'SESSION_ENDED');
      assert.ok((late.seconds_since_end as number) >= 590, JSON.stringify(late));

      const cancelled = await runningSession(w.event.id, { status: 'cancelled' });
      expectRefused(await request(socket, 'markAttendance', { session_id: cancelled }), 'SESSION_CANCELLED');
      for (const s of [soon, past, cancelled]) assert.equal(await attendances(s), 0);
    });

    it('a paid atelier needs paid (or free) access: PAYMENT_REQUIRED until then', async () => {
      const session = await runningSession(w.event.id, { type: 'atelier', isPaid: true, price: '5000.00' });
      const p = await createMember(t, w.event.id);
      const socket = await connect(t, p.token);
      expectRefused(await request(socket, 'markAttendance', { session_id: session }), 'PAYMENT_REQUIRED');
      await t.db.query(
        `INSERT INTO session_access (event_id, participant_id, session_id, payment_status) VALUES ($1, $2, $3, 'pending')`,
        [w.event.id, p.participant.id, session],
      );
      expectRefused(await request(socket, 'markAttendance', { session_id: session }), 'PAYMENT_REQUIRED');
      assert.equal(await attendances(session), 0);
      // Control: once paid, the same request is accepted.
      await t.db.query(`UPDATE session_access SET payment_status = 'paid' WHERE participant_id = $1`, [
        p.participant.id,
      ]);
      assert.equal(expectOk(await request<Marked>(socket, 'markAttendance', { session_id: session })).created, true);
      assert.equal(await attendances(session), 1);
    });

    it('staff without a badge are NOT_A_PARTICIPANT', async () => {
      const session = await runningSession();
      for (const role of STAFF_ROLES) {
        assert.equal(await countRows(t, 'participants', 'user_id = $1', [w.users[role].id]), 0, `${role} has no badge`);
        const socket = await connect(t, w.tokens[role]);
        expectRefused(await request(socket, 'markAttendance', { session_id: session }), 'NOT_A_PARTICIPANT');
      }
      assert.equal(await attendances(session), 0);
    });

    it('a code is CODE_NOT_OPEN; unknown and other event’s sessions NOT_FOUND; bad fields VALIDATION_FAILED', async () => {
      const session = await runningSession();
      const theirs = await runningSession(other.event.id);
      const p = await createMember(t, w.event.id);
      const socket = await connect(t, p.token);
      expectRefused(await request(socket, 'markAttendance', { session_id: session, code: '123456' }), 'CODE_NOT_OPEN');
      expectRefused(await request(socket, 'markAttendance', { session_id: randomUUID() }), 'NOT_FOUND');
      expectRefused(await request(socket, 'markAttendance', { session_id: theirs }), 'NOT_FOUND');
      const bad: [Body, string][] = [
        [{ session_id: session, latitude: 91 }, 'latitude'],
        [{ session_id: session, longitude: 'east' }, 'longitude'],
        [{ session_id: session, code: '' }, 'code'],
        [{ session_id: session, code: 'x'.repeat(33) }, 'code'],
        [{ session_id: session, participant_id: p.participant.id }, 'participant_id'],
        [{ session_id: session, method: 'manual' }, 'method'],
        [{}, 'session_id'],
      ];
      for (const [payload, field] of bad) {
        const error = expectRefused(await request(socket, 'markAttendance', payload), 'VALIDATION_FAILED');
        assert.ok(error.errors?.[field]?.length, `errors.${field} for ${JSON.stringify(payload)}`);
      }
      assert.equal(await attendances(session), 0);
      assert.equal(await attendances(theirs), 0);
    });

    it('50 parallel marks by one participant write exactly one record, announced once', async () => {
      const session = await runningSession();
      const p = await createMember(t, w.event.id);
      const sockets = [await connect(t, p.token), await connect(t, p.token)];
      const announced = recorder(sockets[0] as ClientSocket, 'attendanceMarked');
      const acks = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          request<Marked>(sockets[i % 2] as ClientSocket, 'markAttendance', { session_id: session }),
        ),
      );
      const data = acks.map((a) => expectOk(a));
      assert.equal(data.filter((d) => d.created).length, 1, 'exactly one created');
      assert.equal(new Set(data.map((d) => d.attendance.id)).size, 1, 'one attendance id in every answer');
      assert.equal(await attendances(session), 1);
      await announced.next();
      await sleep(QUIET_MS);
      assert.equal(announced.received.length, 1);
    });

    it('control: the same 50 parallel marks spread over 5 running sessions write 5 records', async () => {
      const sessions = await Promise.all([1, 2, 3, 4, 5].map(() => runningSession()));
      const p = await createMember(t, w.event.id);
      const socket = await connect(t, p.token);
      const acks = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          request<Marked>(socket, 'markAttendance', { session_id: sessions[i % 5] }),
        ),
      );
      assert.equal(acks.map((a) => expectOk(a)).filter((d) => d.created).length, 5);
      assert.equal(await countRows(t, 'attendances', 'session_id = ANY($1::uuid[])', [sessions]), 5);
    });
  });

  describe('getAttendanceStats', () => {
    it('staff get the figures in the acknowledgement and as an attendanceStats event, to that socket only', async () => {
      const session = await runningSession();
      const p = await createMember(t, w.event.id);
      expectOk(await request(await connect(t, p.token), 'markAttendance', { session_id: session }));
      const bystander = await connect(t, w.tokens.organisateur);
      const bystanderStats = recorder(bystander, 'attendanceStats');
      for (const role of STAFF_ROLES) {
        const socket = await connect(t, w.tokens[role]);
        const stats = recorder(socket, 'attendanceStats');
        const data = expectOk(await request(socket, 'getAttendanceStats', { session_id: session }));
        assert.deepEqual(data, { session_id: session, present: 1, by_method: { self: 1 } });
        assert.deepEqual(await stats.next(), data);
      }
      await sleep(QUIET_MS);
      assert.equal(bystanderStats.received.length, 0);
    });

    it('participant and exposant are FORBIDDEN; unknown and other event’s sessions NOT_FOUND', async () => {
      const session = await runningSession();
      for (const role of ['participant', 'exposant'] as EventRole[]) {
        const socket = await connect(t, w.tokens[role]);
        const stats = recorder(socket, 'attendanceStats');
        expectRefused(await request(socket, 'getAttendanceStats', { session_id: session }), 'FORBIDDEN');
        await sleep(100);
        assert.equal(stats.received.length, 0);
      }
      const staff = await connect(t, w.tokens.controlleur_des_badges);
      expectRefused(await request(staff, 'getAttendanceStats', { session_id: randomUUID() }), 'NOT_FOUND');
      const theirs = await runningSession(other.event.id);
      expectRefused(await request(staff, 'getAttendanceStats', { session_id: theirs }), 'NOT_FOUND');
    });
  });

  describe('sessionUpdate', () => {
    const newSession = async (eventId = w.event.id) =>
      createSession(t, eventId, await createRoom(t, eventId), { title: 'Original title' });

    it('organisateur changes fields: acknowledged with the session, broadcast as sessionUpdated', async () => {
      const session = await newSession();
      const org = await connect(t, w.tokens.organisateur);
      const participant = await connect(t, w.tokens.participant);
      const updates = recorder(participant, 'sessionUpdated');
      const data = expectOk(await request<Body>(org, 'sessionUpdate', { session_id: session, title: 'Keynote' }));
      assert.equal(data.id, session);
      assert.equal(data.title, 'Keynote');
      assert.equal((await sessionRow(session))?.title, 'Keynote');
      const m = await updates.next((x) => x.session_id === session);
      assert.equal(m.action, 'updated');
      assert.equal((m.session as Body).title, 'Keynote');
    });

    it('gestionnaire: fields are FORBIDDEN (nothing changed), a status action is allowed', async () => {
      const session = await newSession();
      const before = await sessionRow(session);
      const gest = await connect(t, w.tokens.gestionnaire_des_salles);
      const updates = recorder(await connect(t, w.tokens.participant), 'sessionUpdated');
      expectRefused(await request(gest, 'sessionUpdate', { session_id: session, title: 'Hijacked' }), 'FORBIDDEN');
      expectRefused(
        await request(gest, 'sessionUpdate', { session_id: session, title: 'Hijacked', action: 'mark_live' }),
        'FORBIDDEN',
      );
      assert.deepEqual(await sessionRow(session), before);
      const data = expectOk(await request<Body>(gest, 'sessionUpdate', { session_id: session, action: 'mark_live' }));
      assert.equal(data.status, 'live');
      assert.equal((await sessionRow(session))?.status, 'live');
      // The refused attempts were before the allowed one: had they been broadcast, they would have come first.
      await updates.next((x) => x.session_id === session);
      await sleep(QUIET_MS);
      assert.deepEqual(
        updates.received.map((u) => u.action),
        ['status'],
      );
    });

    it('a gestionnaire with shifts may change only sessions of the room they manage now', async () => {
      const room = await createRoom(t, w.event.id);
      const elsewhere = await createRoom(t, w.event.id);
      const session = await createSession(t, w.event.id, room);
      const gest = await createMember(t, w.event.id, 'gestionnaire_des_salles');
      const shift = (roomId: string) =>
        t.db.query(
          `INSERT INTO room_assignments (event_id, room_id, user_id, role, start_time, end_time, is_active)
           VALUES ($1, $2, $3, 'gestionnaire_des_salles', $4, $5, true)`,
          [w.event.id, roomId, gest.user.id, new Date(Date.now() - HOUR), new Date(Date.now() + HOUR)],
        );
      await shift(elsewhere);
      const socket = await connect(t, gest.token);
      expectRefused(await request(socket, 'sessionUpdate', { session_id: session, action: 'mark_live' }), 'FORBIDDEN');
      assert.equal((await sessionRow(session))?.status, 'scheduled');
      // Control: with a shift in the session's room now, the same request is accepted.
      await shift(room);
      expectOk(await request(socket, 'sessionUpdate', { session_id: session, action: 'mark_live' }));
      assert.equal((await sessionRow(session))?.status, 'live');
    });

    it('participant, exposant and controlleur are FORBIDDEN, for fields and actions; nothing changed', async () => {
      const session = await newSession();
      const before = await sessionRow(session);
      for (const role of ['participant', 'exposant', 'controlleur_des_badges'] as EventRole[]) {
        const socket = await connect(t, w.tokens[role]);
        expectRefused(await request(socket, 'sessionUpdate', { session_id: session, title: 'Mine' }), 'FORBIDDEN');
        expectRefused(await request(socket, 'sessionUpdate', { session_id: session, action: 'cancel' }), 'FORBIDDEN');
      }
      assert.deepEqual(await sessionRow(session), before);
    });

    it('bad payloads, other event’s sessions and impossible transitions are refused; nothing changed', async () => {
      const session = await newSession();
      const theirs = await newSession(other.event.id);
      const org = await connect(t, w.tokens.organisateur);
      const theirsBefore = await sessionRow(theirs);
      for (const payload of [
        { session_id: session },
        { session_id: session, status: 'live' },
        { session_id: session, action: 'explode' },
        { session_id: session, title: '   ' },
        { session_id: session, event_id: other.event.id, title: 'Moved' },
        { title: 'No id' },
      ]) {
        expectRefused(await request(org, 'sessionUpdate', payload), 'VALIDATION_FAILED');
      }
      assert.equal((await sessionRow(session))?.title, 'Original title');
      expectRefused(await request(org, 'sessionUpdate', { session_id: theirs, title: 'Mine now' }), 'NOT_FOUND');
      expectRefused(await request(org, 'sessionUpdate', { session_id: theirs, action: 'cancel' }), 'NOT_FOUND');
      assert.deepEqual(await sessionRow(theirs), theirsBefore);
      expectOk(await request(org, 'sessionUpdate', { session_id: session, action: 'mark_live' }));
      expectRefused(
        await request(org, 'sessionUpdate', { session_id: session, action: 'mark_live' }),
        'INVALID_TRANSITION',
      );
    });
  });

  describe('every message re-checks the caller', () => {
    const deactivate = async (userId: string) => {
      await t.db.query('UPDATE user_event_assignments SET is_active = false WHERE event_id = $1 AND user_id = $2', [
        w.event.id,
        userId,
      ]);
      forgetCachedSessions(t);
    };

    it('a membership deactivated in the database (no event published): MEMBERSHIP_REVOKED, then disconnected', async () => {
      const session = await createSession(t, w.event.id, await createRoom(t, w.event.id));
      const m = await createMember(t, w.event.id);
      const socket = await connect(t, m.token);
      expectOk(await request(socket, 'joinSession', { session_id: session })); // control
      await deactivate(m.user.id);
      await sleep(QUIET_MS);
      assert.equal(socket.connected, true, 'no event was published, so the socket is still open');
      const gone = disconnection(socket, 1000);
      expectRefused(await request(socket, 'joinSession', { session_id: session }), 'MEMBERSHIP_REVOKED');
      assert.equal(await gone, 'io server disconnect');
    });

    it('the same holds for leaveSession', async () => {
      const session = await createSession(t, w.event.id, await createRoom(t, w.event.id));
      const m = await createMember(t, w.event.id);
      const socket = await connect(t, m.token);
      expectOk(await request(socket, 'joinSession', { session_id: session }));
      await deactivate(m.user.id);
      const gone = disconnection(socket, 1000);
      expectRefused(await request(socket, 'leaveSession', { session_id: session }), 'MEMBERSHIP_REVOKED');
      assert.equal(await gone, 'io server disconnect');
    });

    it('a role changed in the database: the next message is refused and the socket closed; reconnected, the new role applies', async () => {
      const room = await createRoom(t, w.event.id);
      const staff = await createMember(t, w.event.id, 'controlleur_des_badges');
      const socket = await connect(t, staff.token);
      expectOk(await request(socket, 'joinRoom', { room_id: room })); // control
      await t.db.query(`UPDATE user_event_assignments SET role = 'participant' WHERE event_id = $1 AND user_id = $2`, [
        w.event.id,
        staff.user.id,
      ]);
      forgetCachedSessions(t);
      const gone = disconnection(socket, 1000);
      expectRefused(await request(socket, 'joinRoom', { room_id: room }), 'MEMBERSHIP_CHANGED');
      assert.equal(await gone, 'io server disconnect');
      const again = await connect(t, staff.token);
      expectRefused(await request(again, 'joinRoom', { room_id: room }), 'FORBIDDEN');
    });

    it('a session revoked in the database: TOKEN_INVALID, then disconnected, and nothing written', async () => {
      const session = await runningSession();
      const p = await createMember(t, w.event.id);
      const socket = await connect(t, p.token);
      await t.db.query(`UPDATE auth_sessions SET revoked_at = now() WHERE user_id = $1`, [p.user.id]);
      forgetCachedSessions(t);
      const gone = disconnection(socket, 1000);
      expectRefused(await request(socket, 'markAttendance', { session_id: session }), 'TOKEN_INVALID');
      assert.equal(await gone, 'io server disconnect');
      assert.equal(await attendances(session), 0);
    });
  });

  describe('a token without a selected event', () => {
    it('connects, but its client events are EVENT_REQUIRED and no event’s broadcast reaches it', async () => {
      const user = await createUser(t);
      await assign(t, w.event.id, user.id, 'organisateur');
      const socket = await connect(t, (await openSession(t, user.id, null)).access);
      const room = await createRoom(t, w.event.id);
      const session = await runningSession();
      for (const [event, payload] of [
        ['joinSession', { session_id: session }],
        ['joinRoom', { room_id: room }],
        ['markAttendance', { session_id: session }],
        ['getAttendanceStats', { session_id: session }],
        ['sessionUpdate', { session_id: session, title: 'Event-less' }],
      ] as const) {
        expectRefused(await request(socket, event, payload), 'EVENT_REQUIRED');
      }
      const leak = recorder(socket, 'sessionUpdated');
      const control = recorder(await connect(t, w.tokens.participant), 'sessionUpdated');
      await t.http.patch(`/api/sessions/${session}/`).set(bearer(w.tokens.organisateur)).send({ title: 'Seen' });
      await control.next((x) => x.session_id === session);
      await sleep(QUIET_MS);
      assert.equal(leak.received.length, 0);
      assert.notEqual((await sessionRow(session))?.title, 'Event-less');
    });
  });

  describe('message size', () => {
    it('a message above 64 KB closes the connection; one below is answered', async () => {
      const socket = await connect(t, w.tokens.participant);
      const below = expectRefused(
        await request(socket, 'joinSession', { session_id: 'x'.repeat(60 * 1024) }),
        'VALIDATION_FAILED',
      );
      assert.ok(below.errors?.session_id);
      assert.equal(socket.connected, true);
      const gone = disconnection(socket, 2000);
      socket.emit('joinSession', { session_id: 'x'.repeat(70 * 1024) });
      assert.match(await gone, /^transport (close|error)$/);
    });
  });
});

describe('realtime client events: rate limit (SOCKET_MESSAGES_PER_SEC=5)', () => {
  let t: TestApp;
  let w: World;
  let session: string;

  before(async () => {
    t = await bootTestApp({ SOCKET_MESSAGES_PER_SEC: '5' });
    w = await createWorld(t);
    session = await createSession(t, w.event.id, await createRoom(t, w.event.id));
  });
  afterEach(() => closeAllClients());
  after(async () => {
    closeAllClients();
    await t.close();
  });

  it('a burst of 30 gets RATE_LIMITED beyond the burst of 10; a second later it is answered again', async () => {
    const socket = await connect(t, w.tokens.participant);
    const neighbour = await connect(t, w.tokens.participant);
    const acks = await Promise.all(
      Array.from({ length: 30 }, () => request(socket, 'joinSession', { session_id: session })),
    );
    const ok = acks.filter((a) => a.ok).length;
    const limited = acks.filter((a) => !a.ok && a.error.code === 'RATE_LIMITED').length;
    assert.equal(ok + limited, 30, JSON.stringify(acks.filter((a) => !a.ok && a.error.code !== 'RATE_LIMITED')));
    assert.ok(ok >= 5 && ok <= 12, `${ok} answered`);
    assert.ok(limited >= 18, `${limited} RATE_LIMITED`);
    // The budget is per socket: another socket of the same user is not affected.
    expectOk(await request(neighbour, 'joinSession', { session_id: session }));
    await sleep(1100);
    expectOk(await request(socket, 'joinSession', { session_id: session }));
    assert.equal(socket.connected, true);
  });

  it('without an acknowledgement, the refusal comes as an error event', async () => {
    const socket = await connect(t, w.tokens.participant);
    const errors = recorder(socket, 'error');
    for (let i = 0; i < 20; i++) socket.emit('joinSession', { session_id: session });
    const error = await errors.next();
    assert.equal(error.code, 'RATE_LIMITED');
    await sleep(200);
    assert.ok(errors.received.length >= 5 && errors.received.length <= 15, `${errors.received.length} errors`);
  });

  it('a socket that keeps flooding is disconnected', async () => {
    const socket = await connect(t, w.tokens.participant);
    const gone = disconnection(socket, 2000);
    for (let i = 0; i < 80; i++) socket.emit('joinSession', { session_id: session });
    assert.equal(await gone, 'io server disconnect');
  });
});
