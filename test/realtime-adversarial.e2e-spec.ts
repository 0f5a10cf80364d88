import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import type { EventRole } from '../src/common/auth/event-role';
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
  refusal,
  request,
  sleep,
  type ClientSocket,
} from './helpers/sockets';
import { bootTestApp, forgetCachedSessions, type TestApp } from './helpers/test-app';

/*
 * Adversarial tests of the socket.io gateway (API.md, "Real time"), aimed at what the other realtime specs leave out:
 * every client event fed ids of another event, server events of one event watched from another with a catch-all
 * listener, payloads no client should send (raw frames, deep nesting, binary attachments, no acknowledgement),
 * refused requests that must change nothing, and re-checks of the caller on the write events. Every "nothing arrived"
 * is checked after a positive control on another socket received the corresponding message.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const QUIET_MS = 400;
const PUSH_INTERVAL_MS = 100;

type Body = Record<string, unknown>;

/** Records the name of every server event a socket receives (a catch-all: nothing can slip past by its name). */
function everything(socket: ClientSocket): string[] {
  const names: string[] = [];
  socket.onAny((name: string) => names.push(name));
  return names;
}

/** Emits without an acknowledgement, for any event name and payload. */
function fireAndForget(socket: ClientSocket, event: string, ...args: unknown[]): void {
  (socket as unknown as { emit(e: string, ...a: unknown[]): void }).emit(event, ...args);
}

let rawId = 100_000;
/**
 * Sends a socket.io EVENT packet written by hand (`body` is its JSON array), with an acknowledgement id: for payloads
 * the client library cannot encode (it recurses over them). Resolves with the acknowledgement, or 'NO ACK'.
 */
function rawRequest(socket: ClientSocket, body: string, timeoutMs = 5000): Promise<Ack<unknown> | 'NO ACK'> {
  return new Promise((resolve) => {
    const id = ++rawId;
    const acks = (socket as unknown as { acks: Record<number, (...a: unknown[]) => void> }).acks;
    const timer = setTimeout(() => {
      delete acks[id];
      resolve('NO ACK');
    }, timeoutMs);
    acks[id] = (ack: unknown) => {
      clearTimeout(timer);
      resolve(ack as Ack<unknown>);
    };
    socket.io.engine.write(`2${id}${body}`);
  });
}

describe('realtime adversarial', () => {
  let t: TestApp;
  let a: World;
  let b: World;

  const runningSession = async (eventId: string, opts: Parameters<typeof createSession>[3] = {}) => {
    const room = await createRoom(t, eventId);
    const session = await createSession(t, eventId, room, {
      start: new Date(Date.now() - 10 * MINUTE),
      end: new Date(Date.now() + HOUR),
      ...opts,
    });
    return { room, session };
  };
  const scan = async (roomId: string, qr: string, token: string) => {
    const res = await t.http.post(`/api/rooms/${roomId}/verify_access/`).set(bearer(token)).send({ qr_data: qr });
    assert.equal(res.status, 200, res.text);
    return res.body as { status: string; access_id: string };
  };
  const sessionRow = async (id: string) => {
    const rows: { title: string; status: string; room_id: string; updated_at: Date }[] = await t.db.query(
      'SELECT title, status, room_id, updated_at FROM sessions WHERE id = $1',
      [id],
    );
    return rows[0];
  };
  const attendances = (sessionId: string) => countRows(t, 'attendances', 'session_id = $1', [sessionId]);
  const setRole = async (eventId: string, userId: string, role: EventRole) => {
    await t.db.query('UPDATE user_event_assignments SET role = $3 WHERE event_id = $1 AND user_id = $2', [
      eventId,
      userId,
      role,
    ]);
    forgetCachedSessions(t);
  };

  before(async () => {
    t = await bootTestApp({ SOCKET_MESSAGES_PER_SEC: '500', OCCUPANCY_PUSH_INTERVAL_MS: String(PUSH_INTERVAL_MS) });
    a = await createWorld(t);
    b = await createWorld(t);
  });
  afterEach(() => closeAllClients());
  after(async () => {
    closeAllClients();
    await t.close();
  });

  describe('cross-event isolation', () => {
    it('sockets of event A that present every id of event B are refused, and none of B’s activity reaches them', async () => {
      const { room: bRoom, session: bSession } = await runningSession(b.event.id);
      const bMember = await createMember(t, b.event.id);
      // Organisateur in both events, connected with the token of A.
      const dual = await createUser(t);
      await assign(t, a.event.id, dual.id, 'organisateur');
      await assign(t, b.event.id, dual.id, 'organisateur');
      const aMember = await createMember(t, a.event.id);
      const aSockets = {
        organisateur: await connect(t, a.tokens.organisateur),
        dual: await connect(t, (await openSession(t, dual.id, a.event.id)).access),
        participant: await connect(t, aMember.token),
      };
      const hijack = `Hijacked ${randomUUID()}`;
      for (const [who, s] of [
        ['organisateur', aSockets.organisateur],
        ['dual', aSockets.dual],
      ] as const) {
        expectRefused(await request(s, 'joinSession', { session_id: bSession }), 'NOT_FOUND', `${who} joinSession`);
        expectRefused(await request(s, 'joinRoom', { room_id: bRoom }), 'NOT_FOUND', `${who} joinRoom`);
        expectRefused(await request(s, 'getAttendanceStats', { session_id: bSession }), 'NOT_FOUND', who);
        expectRefused(await request(s, 'sessionUpdate', { session_id: bSession, title: hijack }), 'NOT_FOUND', who);
        expectRefused(await request(s, 'sessionUpdate', { session_id: bSession, action: 'cancel' }), 'NOT_FOUND', who);
      }
      const p = aSockets.participant;
      expectRefused(await request(p, 'joinSession', { session_id: bSession }), 'NOT_FOUND', 'participant joinSession');
      expectRefused(await request(p, 'joinRoom', { room_id: bRoom }), 'FORBIDDEN', 'participant joinRoom');
      expectRefused(await request(p, 'markAttendance', { session_id: bSession }), 'NOT_FOUND', 'participant mark');
      await request(p, 'leaveSession', { session_id: bSession });
      const seen = Object.entries(aSockets).map(([who, s]) => ({ who, names: everything(s) }));

      // B's own sockets: the positive controls.
      const bOrg = await connect(t, b.tokens.organisateur);
      expectOk(await request(bOrg, 'joinSession', { session_id: bSession }));
      const ctl = {
        joined: recorder(bOrg, 'userJoined'),
        left: recorder(bOrg, 'userLeft'),
        scans: recorder(bOrg, 'accessScanned'),
        occ: recorder(bOrg, 'roomOccupancy'),
        updated: recorder(bOrg, 'sessionUpdated'),
        attendance: recorder(bOrg, 'attendanceUpdate'),
        asked: recorder(bOrg, 'questionAsked'),
      };
      const bm = await connect(t, bMember.token);
      const marked = recorder(bm, 'attendanceMarked');
      const questionUpdated = recorder(bm, 'questionUpdated');

      expectOk(await request(bm, 'joinSession', { session_id: bSession }));
      await ctl.joined.next((x) => x.user.id === bMember.user.id);
      expectOk(await request(bm, 'markAttendance', { session_id: bSession }));
      await marked.next();
      await ctl.attendance.next((x) => x.session_id === bSession);
      const decision = await scan(bRoom, bMember.qr, b.tokens.organisateur);
      assert.equal(decision.status, 'granted');
      await ctl.scans.next((x) => x.access_id === decision.access_id);
      await ctl.occ.next((x) => x.room_id === bRoom);
      expectOk(await request(bOrg, 'sessionUpdate', { session_id: bSession, title: 'B renamed' }));
      await ctl.updated.next((x) => x.session_id === bSession);
      await t.http
        .post(`/api/sessions/${bSession}/questions/`)
        .set(bearer(bMember.token))
        .send({ question_text: 'Is this only for B?' })
        .expect(201);
      await ctl.asked.next();
      await questionUpdated.next();
      expectOk(await request(bm, 'leaveSession', { session_id: bSession }));
      await ctl.left.next((x) => x.user.id === bMember.user.id);

      await sleep(QUIET_MS);
      for (const { who, names } of seen) assert.deepEqual(names, [], `A's ${who} socket received B's events`);
      assert.equal((await sessionRow(bSession))?.title, 'B renamed');
      assert.equal((await sessionRow(bSession))?.status, 'scheduled');
      assert.equal(await countRows(t, 'attendances', 'session_id = $1', [bSession]), 1, 'only B’s member attended');
    });
  });

  describe('role leaks', () => {
    it('non-staff sockets in a session get no accessScanned or roomOccupancy of the session’s door', async () => {
      const { room, session } = await runningSession(a.event.id);
      const inSession: ClientSocket[] = [];
      for (const role of ['participant', 'exposant'] as EventRole[]) {
        const s = await connect(t, a.tokens[role]);
        expectOk(await request(s, 'joinSession', { session_id: session }));
        inSession.push(s);
      }
      const leaks = inSession.map((s) => everything(s));
      const staff = await connect(t, a.tokens.gestionnaire_des_salles);
      const scans = recorder(staff, 'accessScanned');
      const occ = recorder(staff, 'roomOccupancy');
      const m = await createMember(t, a.event.id);
      const decision = await scan(room, m.qr, a.tokens.organisateur);
      assert.equal(decision.status, 'granted');
      await scans.next((x) => x.access_id === decision.access_id);
      await occ.next((x) => x.room_id === room);
      await sleep(QUIET_MS);
      for (const names of leaks) {
        assert.deepEqual(
          names.filter((n) => n === 'accessScanned' || n === 'roomOccupancy' || n === 'attendanceUpdate'),
          [],
        );
      }
    });

    it('a role changed or removed through /api/participants/ closes the socket and its staff events', async () => {
      const gest = await createMember(t, a.event.id, 'gestionnaire_des_salles');
      const leaving = await createMember(t, a.event.id, 'participant');
      const room = await createRoom(t, a.event.id);
      const gs = await connect(t, gest.token);
      expectOk(await request(gs, 'joinRoom', { room_id: room }));
      const ls = await connect(t, leaving.token);
      const gone = [disconnection(gs, 1500), disconnection(ls, 1500)];
      await t.http
        .patch(`/api/participants/${gest.participant.id}/`)
        .set(bearer(a.tokens.organisateur))
        .send({ role: 'participant' })
        .expect(200);
      await t.http
        .delete(`/api/participants/${leaving.participant.id}/`)
        .set(bearer(a.tokens.organisateur))
        .expect(204);
      assert.deepEqual(await Promise.all(gone), ['io server disconnect', 'io server disconnect']);
      assert.equal((await refusal(t, leaving.token)).message, 'MEMBERSHIP_REVOKED');
      const again = await connect(t, gest.token);
      const leak = everything(again);
      expectRefused(await request(again, 'joinRoom', { room_id: room }), 'FORBIDDEN');
      const control = recorder(await connect(t, a.tokens.organisateur), 'accessScanned');
      const m = await createMember(t, a.event.id);
      const decision = await scan(room, m.qr, a.tokens.organisateur);
      await control.next((x) => x.access_id === decision.access_id);
      await sleep(QUIET_MS);
      assert.deepEqual(leak, []);
    });
  });

  describe('write events re-check the caller on every message', () => {
    it('an organisateur demoted in the database: sessionUpdate is refused, changes nothing, broadcasts nothing', async () => {
      const { session } = await runningSession(a.event.id);
      const exOrg = await createMember(t, a.event.id, 'organisateur');
      const socket = await connect(t, exOrg.token);
      const updates = recorder(await connect(t, a.tokens.participant), 'sessionUpdated');
      await setRole(a.event.id, exOrg.user.id, 'participant');
      const before = await sessionRow(session);
      const gone = disconnection(socket, 1500);
      expectRefused(
        await request(socket, 'sessionUpdate', { session_id: session, title: 'Ex-organisateur' }),
        'MEMBERSHIP_CHANGED',
      );
      assert.equal(await gone, 'io server disconnect');
      assert.deepEqual(await sessionRow(session), before);
      // Control: a real organisateur's change is broadcast, so the refused one would have been too.
      const org = await connect(t, a.tokens.organisateur);
      expectOk(await request(org, 'sessionUpdate', { session_id: session, title: 'Control' }));
      await updates.next((x) => x.session_id === session);
      await sleep(QUIET_MS);
      assert.deepEqual(
        updates.received.filter((x) => x.session_id === session).map((x) => (x.session as Body).title),
        ['Control'],
      );
    });

    it('a participant whose role changed in the database: markAttendance is refused and writes nothing', async () => {
      const first = await runningSession(a.event.id);
      const second = await runningSession(a.event.id);
      const p = await createMember(t, a.event.id);
      const socket = await connect(t, p.token);
      const marked = recorder(socket, 'attendanceMarked');
      // Control: the same socket could mark attendance before the change.
      assert.equal(
        expectOk(await request<Body>(socket, 'markAttendance', { session_id: first.session })).created,
        true,
      );
      await marked.next();
      await setRole(a.event.id, p.user.id, 'exposant');
      const gone = disconnection(socket, 1500);
      expectRefused(await request(socket, 'markAttendance', { session_id: second.session }), 'MEMBERSHIP_CHANGED');
      assert.equal(await gone, 'io server disconnect');
      assert.equal(await attendances(second.session), 0);
      assert.equal(marked.received.length, 1);
    });
  });

  describe('malformed client events', () => {
    it('joinRoom, markAttendance, getAttendanceStats, sessionUpdate: bad payloads are VALIDATION_FAILED; nothing changes; the socket stays usable', async () => {
      const { room, session } = await runningSession(a.event.id);
      const org = await connect(t, a.tokens.organisateur);
      const p = await createMember(t, a.event.id);
      const ps = await connect(t, p.token);
      const before = await sessionRow(session);
      const bad = (field: string, valid: string): [string, unknown, string?][] => [
        ['null', null],
        ['an empty array', []],
        ['an array of the valid payload', [{ [field]: valid }]],
        ['a string', valid],
        ['a number', 7],
        ['a boolean', false],
        ['an empty object', {}, field],
        ['a number id', { [field]: 42 }, field],
        ['a null id', { [field]: null }, field],
        ['an array id', { [field]: [valid] }, field],
        ['an operator object id', { [field]: { $ne: null } }, field],
        ['a non-UUID id', { [field]: `${valid}' OR '1'='1` }, field],
        ['a 60 KB id', { [field]: 'f'.repeat(60 * 1024) }, field],
        ['an extra field', { [field]: valid, event_id: b.event.id }, 'event_id'],
        ['an own __proto__ key', JSON.parse(`{"${field}":"not-a-uuid","__proto__":{"${field}":"${valid}"}}`), field],
      ];
      const cases: [ClientSocket, string, string, string][] = [
        [org, 'joinRoom', 'room_id', room],
        [ps, 'markAttendance', 'session_id', session],
        [org, 'getAttendanceStats', 'session_id', session],
        [org, 'sessionUpdate', 'session_id', session],
      ];
      for (const [socket, event, field, valid] of cases) {
        for (const [what, payload, errorField] of bad(field, valid)) {
          const error = expectRefused(await request(socket, event, payload), 'VALIDATION_FAILED', `${event}, ${what}`);
          if (errorField) assert.ok(error.errors?.[errorField]?.length, `${event}, ${what}: errors.${errorField}`);
        }
      }
      // Field-specific garbage of the write events.
      for (const payload of [
        { session_id: session, code: ['123456'] },
        { session_id: session, latitude: '36.7', longitude: 3 },
        { session_id: session, code: 'c'.repeat(60 * 1024) },
      ]) {
        expectRefused(await request(ps, 'markAttendance', payload), 'VALIDATION_FAILED', JSON.stringify(payload));
      }
      for (const payload of [
        { session_id: session, title: ['x'] },
        { session_id: session, title: 'y'.repeat(60 * 1024) },
        { session_id: session, capacity: -5 },
        { session_id: session, start_time: 'yesterday' },
        { session_id: session, status: 'completed' },
        { session_id: session, action: ['cancel'] },
        { session_id: session, room_id: 'lobby' },
      ]) {
        expectRefused(
          await request(org, 'sessionUpdate', payload),
          'VALIDATION_FAILED',
          JSON.stringify(payload).slice(0, 80),
        );
      }
      assert.deepEqual(await sessionRow(session), before, 'the session did not change');
      assert.equal(await attendances(session), 0, 'no attendance was written');
      // Control: both sockets still answer well-formed messages.
      assert.equal(expectOk(await request<Body>(org, 'joinRoom', { room_id: room })).room_id, room);
      assert.equal(expectOk(await request<Body>(ps, 'markAttendance', { session_id: session })).created, true);
    });

    it('a deeply nested value inside 64 KB is a VALIDATION_FAILED refusal, not an internal error', async () => {
      const { session } = await runningSession(a.event.id);
      const org = await connect(t, a.tokens.organisateur);
      const deepArray = `${'['.repeat(30_000)}${']'.repeat(30_000)}`;
      const deepObject = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
      const answers: Record<string, unknown> = {};
      for (const [what, body] of [
        ['an extra field holding nested arrays', `["joinSession",{"session_id":"${session}","x":${deepArray}}]`],
        ['the id as nested objects', `["joinSession",{"session_id":${deepObject}}]`],
        [
          'session metadata as nested objects',
          `["sessionUpdate",{"session_id":"${session}","metadata":${deepObject}}]`,
        ],
      ] as const) {
        assert.ok(body.length < 64 * 1024, `${what}: ${body.length} bytes`);
        const ack = await rawRequest(org, body);
        answers[what] = ack === 'NO ACK' ? ack : ack.ok ? 'ok' : ack.error.code;
      }
      // Control: the socket survived and answers a well-formed message.
      expectOk(await request(org, 'joinSession', { session_id: session }));
      assert.deepEqual(answers, {
        'an extra field holding nested arrays': 'VALIDATION_FAILED',
        'the id as nested objects': 'VALIDATION_FAILED',
        'session metadata as nested objects': 'VALIDATION_FAILED',
      });
    });

    it('events without an acknowledgement, unknown events and odd argument lists do not break the socket or the server', async () => {
      const { room, session } = await runningSession(a.event.id);
      const org = await connect(t, a.tokens.organisateur);
      const errors = recorder(org, 'error');
      for (const event of [
        'joinSession',
        'leaveSession',
        'joinRoom',
        'markAttendance',
        'getAttendanceStats',
        'sessionUpdate',
      ]) {
        for (const args of [
          [],
          [null],
          ['x'],
          [42],
          [[]],
          [{}],
          [{ session_id: 'nope', room_id: 'nope' }],
          [1, 2, 3],
        ]) {
          fireAndForget(org, event, ...args);
        }
      }
      for (const event of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'error', 'x'.repeat(1000)]) {
        fireAndForget(org, event, { session_id: session });
      }
      // Event names as numbers and unhandled names with an acknowledgement id, written by hand.
      await rawRequest(org, '[42,{}]', 200);
      await rawRequest(org, '["noSuchEvent",{}]', 200);
      await sleep(200);
      assert.equal(org.connected, true);
      assert.deepEqual(errors.received, [], 'not rate limited at 500 messages/s');
      // Control: the socket and the server still answer, with the right data.
      assert.equal(expectOk(await request<Body>(org, 'joinRoom', { room_id: room })).room_id, room);
      const health = await t.http.get('/health/live');
      assert.equal(health.status, 200);
      assert.equal((await sessionRow(session))?.status, 'scheduled');
    });

    it('a well-formed event sent without an acknowledgement still takes effect (joinSession, markAttendance)', async () => {
      const { session } = await runningSession(a.event.id);
      const watcher = await connect(t, a.tokens.organisateur);
      expectOk(await request(watcher, 'joinSession', { session_id: session }));
      const joined = recorder(watcher, 'userJoined');
      const p = await createMember(t, a.event.id);
      const ps = await connect(t, p.token);
      const marked = recorder(ps, 'attendanceMarked');
      fireAndForget(ps, 'joinSession', { session_id: session });
      fireAndForget(ps, 'markAttendance', { session_id: session });
      // Control: the same messages with an acknowledgement, from another member, take effect.
      const q = await createMember(t, a.event.id);
      const qs = await connect(t, q.token);
      expectOk(await request(qs, 'joinSession', { session_id: session }));
      expectOk(await request(qs, 'markAttendance', { session_id: session }));
      await joined.next((x) => x.user.id === q.user.id);
      await sleep(QUIET_MS);
      assert.deepEqual(
        {
          announcedJoin: joined.received.some((x) => x.user.id === p.user.id),
          attendanceMarked: marked.received.length,
          rows: await countRows(t, 'attendances', 'session_id = $1 AND participant_id = $2', [
            session,
            p.participant.id,
          ]),
        },
        { announcedJoin: true, attendanceMarked: 1, rows: 1 },
        'the fire-and-forget joinSession and markAttendance were dropped',
      );
    });
  });

  describe('sessionUpdate is all or nothing', () => {
    it('fields with an impossible action are refused as a whole: nothing written, nothing broadcast', async () => {
      const { session } = await runningSession(a.event.id);
      const org = await connect(t, a.tokens.organisateur);
      const updates = recorder(await connect(t, a.tokens.participant), 'sessionUpdated');
      const before = await sessionRow(session);
      assert.equal(before?.status, 'scheduled');
      expectRefused(
        await request(org, 'sessionUpdate', { session_id: session, title: 'Half applied', action: 'mark_completed' }),
        'INVALID_TRANSITION',
      );
      const afterRefusal = await sessionRow(session);
      // Control: a valid change afterwards is broadcast, so a broadcast of the refused one would have come first.
      expectOk(await request(org, 'sessionUpdate', { session_id: session, action: 'mark_live' }));
      await updates.next((x) => x.session_id === session && x.action === 'status');
      await sleep(QUIET_MS);
      assert.deepEqual(
        {
          title: afterRefusal?.title,
          broadcasts: updates.received.filter((x) => x.session_id === session).map((x) => x.action),
        },
        { title: before?.title, broadcasts: ['status'] },
        'a refused sessionUpdate changed the session',
      );
    });

    it('cannot move a session into a room of another event (refused, nothing changed); a room of the event is accepted (control)', async () => {
      const { session } = await runningSession(a.event.id);
      const theirRoom = await createRoom(t, b.event.id);
      const org = await connect(t, a.tokens.organisateur);
      const before = await sessionRow(session);
      // As PATCH /api/sessions/{id}/ answers it (sessions.e2e-spec.ts): a 400 naming room_id.
      for (const roomId of [theirRoom, randomUUID()]) {
        const error = expectRefused(
          await request(org, 'sessionUpdate', { session_id: session, room_id: roomId }),
          'VALIDATION_FAILED',
        );
        assert.ok(error.errors?.room_id?.length, JSON.stringify(error));
      }
      assert.deepEqual(await sessionRow(session), before);
      const ownRoom = await createRoom(t, a.event.id);
      const data = expectOk(await request<Body>(org, 'sessionUpdate', { session_id: session, room_id: ownRoom }));
      assert.equal(data.room, ownRoom);
    });
  });

  describe('message size (64 KB)', () => {
    it('over the polling transport too: above 64 KB closes the connection, below is answered', async () => {
      const socket = await connect(t, a.tokens.participant, { transports: ['polling'] });
      expectRefused(await request(socket, 'joinSession', { session_id: 'x'.repeat(60 * 1024) }), 'VALIDATION_FAILED');
      assert.equal(socket.connected, true);
      const gone = disconnection(socket, 3000);
      fireAndForget(socket, 'joinSession', { session_id: 'x'.repeat(70 * 1024) });
      assert.match(await gone, /^transport (close|error)$/);
    });

    it('a message with binary attachments closes the connection: no client event takes binary, and attachments (frames of their own) would add up past 64 KB', async () => {
      const { session } = await runningSession(a.event.id);
      // Control: the same message with its 20 KB as a string is answered (refused for its unknown field).
      const control = await connect(t, a.tokens.participant);
      expectRefused(
        await request(control, 'joinSession', { session_id: session, blob: 'x'.repeat(20 * 1024) }),
        'VALIDATION_FAILED',
      );
      assert.equal(control.connected, true);
      const big = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`b${i}`, Buffer.alloc(60 * 1024, i)]));
      for (const blobs of [{ blob: Buffer.alloc(20 * 1024) }, big]) {
        const socket = await connect(t, a.tokens.participant);
        const gone = disconnection(socket, 3000).catch(() => 'still connected');
        fireAndForget(socket, 'joinSession', { session_id: session, ...blobs });
        assert.match(await gone, /^transport (close|error)$/, `${Object.keys(blobs).length} attachment(s) accepted`);
      }
      assert.equal(control.connected, true);
    });
  });

  describe('handshake after logout', () => {
    it('the logged-out token is refused in every form and transport; another session of the user connects (control)', async () => {
      const m = await createMember(t, a.event.id);
      const live = await openSession(t, m.user.id, a.event.id);
      const socket = await connect(t, m.token);
      const gone = disconnection(socket, 1500);
      await t.http.post('/api/auth/logout/').set(bearer(m.token)).send({}).expect(204);
      assert.equal(await gone, 'io server disconnect');
      const forms = (token: string): [string, string | undefined, Parameters<typeof connect>[2]][] => [
        ['auth.token', token, {}],
        ['auth.token with Bearer', `Bearer ${token}`, {}],
        ['Authorization header', undefined, { extraHeaders: { Authorization: `Bearer ${token}` } }],
        ['polling', token, { transports: ['polling'] }],
        ['polling then upgrade', token, { transports: ['polling', 'websocket'] }],
      ];
      for (const [what, token, opts] of forms(m.token)) {
        const error = await refusal(t, token, opts);
        assert.equal(error.message, 'TOKEN_INVALID', what);
        assert.equal(error.data?.code, 'TOKEN_INVALID', what);
      }
      for (const [what, token, opts] of forms(live.access)) {
        const ok = await connect(t, token, opts);
        assert.equal(ok.connected, true, what);
        ok.close();
      }
      // Tokens that are not strings are missing, not accepted.
      for (const token of [123, ['x'], { token: live.access }, null, true]) {
        const error = await refusal(t, undefined, { auth: { token } as never });
        assert.equal(error.message, 'AUTH_REQUIRED', JSON.stringify(token));
      }
    });
  });
});

describe('realtime adversarial: rate limit (SOCKET_MESSAGES_PER_SEC=5)', () => {
  let t: TestApp;
  let w: World;

  before(async () => {
    t = await bootTestApp({ SOCKET_MESSAGES_PER_SEC: '5' });
    w = await createWorld(t);
  });
  afterEach(() => closeAllClients());
  after(async () => {
    closeAllClients();
    await t.close();
  });

  it('unknown and malformed events spend the same budget; a refused message has no effect', async () => {
    const sessions: string[] = [];
    for (let i = 0; i < 20; i++) {
      const room = await createRoom(t, w.event.id);
      sessions.push(
        await createSession(t, w.event.id, room, {
          start: new Date(Date.now() - 10 * MINUTE),
          end: new Date(Date.now() + HOUR),
        }),
      );
    }
    const p = await createMember(t, w.event.id);
    const socket = await connect(t, p.token);
    const errors = recorder(socket, 'error');
    // The burst (10) spent on names the server does not handle and on garbage.
    for (let i = 0; i < 6; i++) fireAndForget(socket, 'noSuchEvent', { i });
    for (let i = 0; i < 4; i++) fireAndForget(socket, 'markAttendance', null);
    expectRefused(await request(socket, 'markAttendance', { session_id: sessions[0] }), 'RATE_LIMITED');
    assert.equal(await countRows(t, 'attendances', 'participant_id = $1', [p.participant.id]), 0);
    assert.equal(errors.received.length, 0, 'the 10 of the burst were let through');

    await sleep(2200); // the bucket is full again
    const acks = await Promise.all(sessions.map((s) => request<Body>(socket, 'markAttendance', { session_id: s })));
    const accepted = sessions.filter((_, i) => acks[i]?.ok);
    const limited = acks.filter((x) => !x.ok && x.error.code === 'RATE_LIMITED').length;
    assert.equal(
      accepted.length + limited,
      20,
      JSON.stringify(acks.filter((x) => !x.ok && x.error.code !== 'RATE_LIMITED')),
    );
    assert.ok(accepted.length >= 10 && accepted.length <= 12, `${accepted.length} accepted`);
    const rows: { session_id: string }[] = await t.db.query(
      'SELECT session_id FROM attendances WHERE participant_id = $1 ORDER BY session_id',
      [p.participant.id],
    );
    assert.deepEqual(
      rows.map((r) => r.session_id),
      [...accepted].sort(),
      'exactly the accepted messages wrote attendance',
    );
    assert.equal(socket.connected, true);
  });
});
