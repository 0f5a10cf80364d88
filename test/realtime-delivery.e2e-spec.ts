import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { JwtService } from '@nestjs/jwt';
import { EVENT_ROLES, STAFF_ROLES, type EventRole } from '../src/common/auth/event-role';
import { SessionsService as AuthSessions } from '../src/modules/auth/sessions.service';
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
  PASSWORD,
  type World,
} from './helpers/factories';
import { fire, tally } from './helpers/requests';
import {
  client,
  closeAllClients,
  connect,
  disconnection,
  recorder,
  refusal,
  request,
  sleep,
  type ClientSocket,
} from './helpers/sockets';
import { bootTestApp, TEST_JWT_SECRET, type TestApp } from './helpers/test-app';

/*
 * Who receives which server event, and who does not: every positive case has a negative one, checked after a
 * positive control on another socket has received the same message (so "nothing arrived" is not just "too early").
 * The app runs with a 300 ms occupancy interval, so coalescing is visible.
 */

const PUSH_INTERVAL_MS = 300;
/** How long a socket must stay silent after the positive control received the message. */
const QUIET_MS = 400;
const NON_STAFF: EventRole[] = ['exposant', 'participant'];
const HOUR = 3600_000;

type Sockets = Record<EventRole, ClientSocket>;

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

/** Connects (or reconnects) a socket made with `client()`; without auto-reconnection the test decides when it is back. */
function open(socket: ClientSocket): Promise<ClientSocket> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      socket.off('connect', onConnect);
      reject(error);
    };
    const onConnect = () => {
      socket.off('connect_error', onError);
      resolve(socket);
    };
    socket.once('connect', onConnect);
    socket.once('connect_error', onError);
    socket.connect();
  });
}

/** Every frame the server writes to this client, on every (re)connection: what crossed the wire, buffered or not. */
function wire(socket: ClientSocket): string[] {
  const frames: string[] = [];
  socket.io.on('open', () => socket.io.engine.on('data', (data: unknown) => frames.push(String(data))));
  return frames;
}

describe('realtime delivery', () => {
  let t: TestApp;
  let w: World;
  /** Another event: nothing of `w` may reach it. */
  let other: World;

  const connectWorld = async (world: World): Promise<Sockets> => {
    const sockets = {} as Sockets;
    for (const role of EVENT_ROLES) sockets[role] = await connect(t, world.tokens[role]);
    return sockets;
  };

  const scan = async (roomId: string, qr: string, token = w.tokens.organisateur) => {
    const res = await t.http.post(`/api/rooms/${roomId}/verify_access/`).set(bearer(token)).send({ qr_data: qr });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body as { status: string; access_id: string; reason_code: string };
  };

  const assignmentId = async (eventId: string, userId: string): Promise<string> => {
    const rows: { id: string }[] = await t.db.query(
      'SELECT id FROM user_event_assignments WHERE event_id = $1 AND user_id = $2',
      [eventId, userId],
    );
    assert.equal(rows.length, 1);
    return (rows[0] as { id: string }).id;
  };

  const occupancyInDb = async (roomId: string): Promise<number> => {
    const rows: { n: number }[] = await t.db.query('SELECT current_participants AS n FROM rooms WHERE id = $1', [
      roomId,
    ]);
    return (rows[0] as { n: number }).n;
  };

  before(async () => {
    t = await bootTestApp({ OCCUPANCY_PUSH_INTERVAL_MS: String(PUSH_INTERVAL_MS) });
    w = await createWorld(t);
    other = await createWorld(t);
  });
  afterEach(() => closeAllClients());
  after(async () => {
    closeAllClients();
    await t.close();
  });

  describe('handshake', () => {
    const expectRefused = async (token: string | undefined, code: string, opts = {}) => {
      const error = await refusal(t, token, opts);
      assert.equal(error.message, code, `connect_error message: ${JSON.stringify(error)}`);
      assert.equal(error.data?.code, code, `connect_error data: ${JSON.stringify(error.data)}`);
    };

    it('refuses no token with AUTH_REQUIRED, and garbage with TOKEN_INVALID', async () => {
      await expectRefused(undefined, 'AUTH_REQUIRED');
      await expectRefused('', 'AUTH_REQUIRED');
      await expectRefused(undefined, 'AUTH_REQUIRED', {
        extraHeaders: { Authorization: `Basic ${w.tokens.organisateur}` },
      });
      await expectRefused('not-a-jwt', 'TOKEN_INVALID');
      await expectRefused('a.b.c', 'TOKEN_INVALID');
    });

    it('refuses forged, alg:none and expired tokens, and accepts the same claims signed right (control)', async () => {
      const m = await createMember(t, w.event.id);
      const { iat: _iat, exp: _exp, ...claims } = claimsOf(m.token);
      const right = new JwtService({ secret: TEST_JWT_SECRET });
      // Control: re-signed with the app's key, the claims are accepted, so each refusal below is about one defect.
      (await connect(t, right.sign(claims, { expiresIn: 60 }))).close();
      const wrongKey = new JwtService({ secret: 'another-secret-another-secret-another-secret' });
      await expectRefused(wrongKey.sign(claims, { expiresIn: 60 }), 'TOKEN_INVALID');
      const header = Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url');
      await expectRefused(`${header}.${m.token.split('.')[1]}.`, 'TOKEN_INVALID');
      await expectRefused(right.sign({ ...claims, exp: Math.floor(Date.now() / 1000) - 5 }), 'TOKEN_INVALID');
      // Validly signed, but naming another user's session.
      const victim = await createMember(t, w.event.id);
      await expectRefused(
        right.sign({ ...claims, sid: claimsOf(victim.token).sid }, { expiresIn: 60 }),
        'TOKEN_INVALID',
      );
    });

    it('refuses a refresh token and a selection token used as the access token', async () => {
      const user = await createUser(t);
      await assign(t, w.event.id, user.id, 'organisateur');
      const pair = await openSession(t, user.id, w.event.id);
      (await connect(t, pair.access)).close(); // control: the access token of the same pair is accepted
      await expectRefused(pair.refresh, 'TOKEN_INVALID');
      const selection = t.app.get(AuthSessions, { strict: false }).signSelection(user.id, null);
      await expectRefused(selection, 'TOKEN_INVALID');
    });

    it('refuses the token of a session that logged out, and of a removed membership (MEMBERSHIP_REVOKED)', async () => {
      const a = await createMember(t, w.event.id);
      (await connect(t, a.token)).close();
      await t.http.post('/api/auth/logout/').set(bearer(a.token)).send({}).expect(204);
      await expectRefused(a.token, 'TOKEN_INVALID');

      const b = await createMember(t, w.event.id);
      (await connect(t, b.token)).close();
      const id = await assignmentId(w.event.id, b.user.id);
      await t.http.delete(`/api/user-assignments/${id}/`).set(bearer(w.tokens.organisateur)).expect(204);
      await expectRefused(b.token, 'MEMBERSHIP_REVOKED');
    });

    it('accepts the token as an Authorization: Bearer header, and as auth.token with a Bearer prefix', async () => {
      const room = await createRoom(t, w.event.id);
      const viaHeader = await connect(t, undefined, {
        extraHeaders: { Authorization: `Bearer ${w.tokens.controlleur_des_badges}` },
      });
      const viaPrefix = await connect(t, `Bearer ${w.tokens.gestionnaire_des_salles}`);
      for (const socket of [viaHeader, viaPrefix]) {
        const ack = await request(socket, 'joinRoom', { room_id: room });
        assert.equal(ack.ok, true, JSON.stringify(ack));
      }
      await expectRefused(undefined, 'TOKEN_INVALID', { extraHeaders: { Authorization: 'Bearer garbage' } });
    });
  });

  describe('roomOccupancy and accessScanned', () => {
    it('reach the staff of the event and a socket that joined the room, once each; nobody else', async () => {
      const room = await createRoom(t, w.event.id, { capacity: 10 });
      const m = await createMember(t, w.event.id);
      const mine = await connectWorld(w);
      const theirs = await connectWorld(other);
      // A controller at this door: it joined the room.
      const joiner = await connect(t, (await createMember(t, w.event.id, 'controlleur_des_badges')).token);
      assert.equal((await request(joiner, 'joinRoom', { room_id: room })).ok, true);

      const watch = (s: ClientSocket) => ({ occ: recorder(s, 'roomOccupancy'), scans: recorder(s, 'accessScanned') });
      const rec = {
        mine: Object.fromEntries(EVENT_ROLES.map((r) => [r, watch(mine[r])])) as Record<
          EventRole,
          ReturnType<typeof watch>
        >,
        theirs: EVENT_ROLES.map((r) => watch(theirs[r])),
        joiner: watch(joiner),
      };

      const decision = await scan(room, m.qr);
      assert.equal(decision.status, 'granted');

      for (const r of STAFF_ROLES.map((role) => rec.mine[role])) {
        const o = await r.occ.next((x) => x.room_id === room);
        assert.deepEqual(o, { room_id: room, current_participants: 1, capacity: 10 });
      }
      // Every scan goes to those who run the event and to the sockets that joined the door; a controller follows
      // the doors it joined only.
      for (const r of [rec.mine.organisateur, rec.mine.gestionnaire_des_salles, rec.joiner]) {
        const s = await r.scans.next((x) => x.room_id === room);
        assert.equal(s.access_id, decision.access_id);
        assert.equal(s.status, 'granted');
        assert.equal(s.participant?.id, m.participant.id);
        assert.equal(s.scanned_by, w.users.organisateur.id);
      }
      await sleep(QUIET_MS);
      // The joiner is in its role's room and in the room's channel: one occupancy message, not two.
      assert.equal(rec.joiner.scans.received.length, 1);
      assert.equal(rec.joiner.occ.received.filter((x) => x.room_id === room).length, 1);
      assert.equal(
        rec.mine.controlleur_des_badges.scans.received.length,
        0,
        'a controller got a scan of a door it did not join',
      );
      for (const role of NON_STAFF) {
        assert.equal(rec.mine[role].scans.received.length, 0, `${role} got accessScanned`);
        assert.equal(rec.mine[role].occ.received.length, 0, `${role} got roomOccupancy`);
      }
      for (const r of rec.theirs) {
        assert.equal(r.scans.received.length, 0, 'another event got accessScanned');
        assert.equal(r.occ.received.length, 0, 'another event got roomOccupancy');
      }
    });

    it('a denied scan is an accessScanned for staff but no roomOccupancy', async () => {
      const room = await createRoom(t, w.event.id);
      const staff = await connect(t, w.tokens.gestionnaire_des_salles);
      const participant = await connect(t, w.tokens.participant);
      const occ = recorder(staff, 'roomOccupancy');
      const scans = recorder(staff, 'accessScanned');
      const pScans = recorder(participant, 'accessScanned');
      const decision = await scan(room, 'not-a-badge-at-all');
      assert.equal(decision.status, 'denied');
      const s = await scans.next((x) => x.room_id === room);
      assert.equal(s.status, 'denied');
      assert.equal(s.reason_code, decision.reason_code);
      assert.equal(s.participant, null);
      await sleep(PUSH_INTERVAL_MS + QUIET_MS);
      assert.equal(occ.received.filter((x) => x.room_id === room).length, 0);
      assert.equal(pScans.received.length, 0);
    });

    it('never reach the same person through a socket opened for another event', async () => {
      // Staff in `w`, participant in `other`: the socket of the `other` token must not get `w`'s staff messages.
      const user = await createUser(t);
      await assign(t, w.event.id, user.id, 'gestionnaire_des_salles');
      await assign(t, other.event.id, user.id, 'participant');
      const asStaff = await connect(t, (await openSession(t, user.id, w.event.id)).access);
      const elsewhere = await connect(t, (await openSession(t, user.id, other.event.id)).access);
      const staffScans = recorder(asStaff, 'accessScanned');
      const leaks = [recorder(elsewhere, 'accessScanned'), recorder(elsewhere, 'roomOccupancy')];
      const room = await createRoom(t, w.event.id);
      const m = await createMember(t, w.event.id);
      await scan(room, m.qr);
      await staffScans.next((x) => x.room_id === room);
      await sleep(QUIET_MS);
      for (const leak of leaks) assert.equal(leak.received.length, 0);
    });

    it('an implied exit pushes the occupancy of the room left (decremented) and of the room entered', async () => {
      const a = await createRoom(t, w.event.id, { capacity: 7 });
      const b = await createRoom(t, w.event.id, { capacity: 9 });
      const m = await createMember(t, w.event.id);
      const staff = await connect(t, w.tokens.organisateur);
      const occ = recorder(staff, 'roomOccupancy');
      await scan(a, m.qr);
      await occ.next((x) => x.room_id === a && x.current_participants === 1);
      assert.equal((await scan(b, m.qr)).status, 'granted');
      assert.deepEqual(await occ.next((x) => x.room_id === a && x.current_participants === 0), {
        room_id: a,
        current_participants: 0,
        capacity: 7,
      });
      assert.deepEqual(await occ.next((x) => x.room_id === b), { room_id: b, current_participants: 1, capacity: 9 });
      assert.deepEqual([await occupancyInDb(a), await occupancyInDb(b)], [0, 1]);
    });
  });

  describe('offline uploads', () => {
    it('a 150-scan upload is an accessScanned per scan for staff, and the last roomOccupancy is the database value', async () => {
      const room = await createRoom(t, w.event.id, { capacity: 1000 });
      const people = await Promise.all(Array.from({ length: 150 }, () => createMember(t, w.event.id)));
      const staff = await connect(t, w.tokens.organisateur);
      const participant = await connect(t, w.tokens.participant);
      const occ = recorder(staff, 'roomOccupancy');
      const scans = recorder(staff, 'accessScanned');
      const leak = recorder(participant, 'accessScanned');
      const start = Date.now() - 30 * 60_000;
      const res = await t.http
        .post('/api/scans/sync/')
        .set(bearer(w.tokens.organisateur))
        .send({
          device_id: `rt-offline-${room.slice(0, 8)}`,
          scans: people.map((p, i) => ({
            nonce: `rt${i}`,
            qr_data: p.qr,
            room_id: room,
            direction: 'in',
            scanned_at: new Date(start + i * 1000).toISOString(),
            local_decision: 'granted',
          })),
        });
      assert.equal(res.status, 200, res.text);
      await occ.next((x) => x.room_id === room && x.current_participants === 150);
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline && scans.received.filter((x) => x.room_id === room).length < 150) await sleep(20);
      assert.equal(scans.received.filter((x) => x.room_id === room).length, 150, 'one accessScanned per scan');
      assert.equal(await occupancyInDb(room), 150);
      await sleep(PUSH_INTERVAL_MS + QUIET_MS);
      const last = occ.received.filter((x) => x.room_id === room).at(-1);
      assert.equal(last?.current_participants, 150);
      assert.equal(leak.received.length, 0, 'a participant gets no accessScanned');
    });
  });

  describe('occupancy coalescing', () => {
    it('60 parallel scans into one room: few roomOccupancy messages, the last one the database value', async () => {
      const room = await createRoom(t, w.event.id, { capacity: 500 });
      const members = await Promise.all(Array.from({ length: 60 }, () => createMember(t, w.event.id)));
      const staff = await connect(t, w.tokens.gestionnaire_des_salles);
      const occ = recorder(staff, 'roomOccupancy');
      const scans = recorder(staff, 'accessScanned');
      const arrivals: number[] = [];
      staff.on('roomOccupancy', (x) => {
        if (x.room_id === room) arrivals.push(Date.now());
      });

      const responses = await Promise.all(
        members.map((m) =>
          fire(
            t.http.post(`/api/rooms/${room}/verify_access/`).set(bearer(w.tokens.organisateur)).send({ qr_data: m.qr }),
          ),
        ),
      );
      assert.deepEqual(
        responses.map((r) => `${r.status} ${r.body.status}`),
        responses.map(() => '200 granted'),
      );
      // Control: every decision reached the socket, so the few occupancy messages are coalescing, not loss.
      const deadline = Date.now() + 5000;
      while (scans.received.filter((x) => x.room_id === room).length < 60 && Date.now() < deadline) await sleep(20);
      await sleep(PUSH_INTERVAL_MS * 2 + 200);
      assert.equal(scans.received.filter((x) => x.room_id === room).length, 60);

      const pushes = occ.received.filter((x) => x.room_id === room);
      assert.ok(pushes.length >= 1 && pushes.length <= 10, `${pushes.length} roomOccupancy messages for 60 scans`);
      const inDb = await occupancyInDb(room);
      assert.equal(inDb, 60);
      assert.deepEqual(pushes.at(-1), { room_id: room, current_participants: inDb, capacity: 500 });
      // At most one push per interval: the pushes are spread over at least (count - 1) intervals (the database read
      // of each push may shift it a little, hence one interval of slack).
      const span = (arrivals.at(-1) as number) - (arrivals[0] as number);
      assert.equal(arrivals.length, pushes.length);
      assert.ok(pushes.length <= Math.floor(span / PUSH_INTERVAL_MS) + 2, `${pushes.length} pushes in ${span} ms`);
    });

    it('after a quiet interval, the first scan is pushed at once (not an interval later)', async () => {
      const room = await createRoom(t, w.event.id);
      const m = await createMember(t, w.event.id);
      const staff = await connect(t, w.tokens.gestionnaire_des_salles);
      const occ = recorder(staff, 'roomOccupancy');
      await sleep(PUSH_INTERVAL_MS * 2);
      await scan(room, m.qr);
      const answered = Date.now();
      await occ.next((x) => x.room_id === room);
      const waited = Date.now() - answered;
      assert.ok(waited < PUSH_INTERVAL_MS / 2, `pushed ${waited} ms after the scan`);
    });
  });

  describe('sessionUpdated', () => {
    it('PATCH and mark_live reach every role of the event and nobody of another event', async () => {
      const room = await createRoom(t, w.event.id);
      const session = await createSession(t, w.event.id, room);
      const mine = await connectWorld(w);
      const theirs = await connectWorld(other);
      const recs = EVENT_ROLES.map((role) => ({ role, rec: recorder(mine[role], 'sessionUpdated') }));
      const leaks = EVENT_ROLES.map((role) => recorder(theirs[role], 'sessionUpdated'));

      const title = `Renamed ${Date.now()}`;
      await t.http.patch(`/api/sessions/${session}/`).set(bearer(w.tokens.organisateur)).send({ title }).expect(200);
      for (const { role, rec } of recs) {
        const m = await rec.next((x) => x.session_id === session && x.action === 'updated');
        assert.equal((m.session as { title: string }).title, title, role);
      }
      await t.http.post(`/api/sessions/${session}/mark_live/`).set(bearer(w.tokens.organisateur)).expect(200);
      for (const { role, rec } of recs) {
        const m = await rec.next((x) => x.session_id === session && x.action === 'status');
        assert.equal((m.session as { status: string }).status, 'live', role);
      }
      await sleep(QUIET_MS);
      for (const { role, rec } of recs) assert.equal(rec.received.length, 2, `${role}: one message per change`);
      for (const leak of leaks) assert.equal(leak.received.length, 0, 'another event got sessionUpdated');
    });

    it('a created and a deleted session reach the event (deleted with session null), not another event', async () => {
      const room = await createRoom(t, w.event.id);
      const participant = await connect(t, w.tokens.participant);
      const leak = recorder(await connect(t, other.tokens.organisateur), 'sessionUpdated');
      const updates = recorder(participant, 'sessionUpdated');
      const start = new Date(Date.now() + 5 * HOUR);
      const res = await t.http
        .post('/api/sessions/')
        .set(bearer(w.tokens.organisateur))
        .send({ room_id: room, title: 'Fresh', start_time: start, end_time: new Date(start.getTime() + HOUR) })
        .expect(201);
      const id = res.body.id as string;
      const created = await updates.next((x) => x.session_id === id && x.action === 'created');
      assert.equal((created.session as { title: string }).title, 'Fresh');
      await t.http.delete(`/api/sessions/${id}/`).set(bearer(w.tokens.organisateur)).expect(204);
      assert.deepEqual(await updates.next((x) => x.session_id === id && x.action === 'deleted'), {
        session_id: id,
        action: 'deleted',
        session: null,
      });
      await sleep(QUIET_MS);
      assert.equal(leak.received.length, 0);
    });
  });

  describe('userJoined and userLeft', () => {
    it('go only to the sockets that joined the session, never back to the sender', async () => {
      const room = await createRoom(t, w.event.id);
      const session = await createSession(t, w.event.id, room);
      const a = await connect(t, w.tokens.participant);
      const b = await connect(t, w.tokens.exposant);
      const outside = await connect(t, w.tokens.organisateur);
      const aJoined = recorder(a, 'userJoined');
      const aLeft = recorder(a, 'userLeft');
      const bJoined = recorder(b, 'userJoined');
      const bLeft = recorder(b, 'userLeft');
      const outsideRecs = [recorder(outside, 'userJoined'), recorder(outside, 'userLeft')];

      assert.equal((await request(a, 'joinSession', { session_id: session })).ok, true);
      assert.equal((await request(b, 'joinSession', { session_id: session })).ok, true);
      const joined = await aJoined.next();
      assert.deepEqual(joined, {
        session_id: session,
        user: { id: w.users.exposant.id, name: `${w.users.exposant.firstName} ${w.users.exposant.lastName}` },
      });
      // Joining again is not a new arrival.
      assert.equal((await request(b, 'joinSession', { session_id: session })).ok, true);
      assert.equal((await request(b, 'leaveSession', { session_id: session })).ok, true);
      const left = await aLeft.next();
      assert.equal(left.user.id, w.users.exposant.id);
      // Leaving a session one is not in tells nobody.
      assert.equal((await request(b, 'leaveSession', { session_id: session })).ok, true);
      await sleep(QUIET_MS);
      assert.equal(aJoined.received.length, 1);
      assert.equal(aLeft.received.length, 1);
      assert.equal(bJoined.received.length, 0, 'the sender is not told about itself');
      assert.equal(bLeft.received.length, 0);
      for (const r of outsideRecs) assert.equal(r.received.length, 0, 'a socket outside the session was told');
    });

    it('userLeft also when a socket in the session disconnects', async () => {
      const room = await createRoom(t, w.event.id);
      const session = await createSession(t, w.event.id, room);
      const a = await connect(t, w.tokens.participant);
      const b = await connect(t, w.tokens.exposant);
      const outside = await connect(t, w.tokens.gestionnaire_des_salles);
      const aLeft = recorder(a, 'userLeft');
      const outsideLeft = recorder(outside, 'userLeft');
      for (const s of [a, b]) assert.equal((await request(s, 'joinSession', { session_id: session })).ok, true);
      b.disconnect();
      const left = await aLeft.next();
      assert.deepEqual(left.session_id, session);
      assert.equal(left.user.id, w.users.exposant.id);
      await sleep(QUIET_MS);
      assert.equal(outsideLeft.received.length, 0);
    });

    it('a socket back after a transport loss is a new connection: announced gone, then joined again', async () => {
      const room = await createRoom(t, w.event.id);
      const session = await createSession(t, w.event.id, room);
      const a = await connect(t, w.tokens.participant);
      const b = client(t, w.tokens.exposant, { reconnection: false });
      await open(b);
      const presence: string[] = [];
      a.on('userJoined', (x) => presence.push(`joined ${x.user.id}`));
      a.on('userLeft', (x) => presence.push(`left ${x.user.id}`));
      for (const s of [a, b]) assert.equal((await request(s, 'joinSession', { session_id: session })).ok, true);
      // A broadcast gives b's client an offset: a server with state recovery would restore b from it.
      const bUpdates = recorder(b, 'sessionUpdated');
      await t.http.patch(`/api/sessions/${session}/`).set(bearer(w.tokens.organisateur)).send({ title: 'T1' });
      await bUpdates.next();
      b.io.engine.close();
      await disconnection(b, 1000);
      await sleep(200);
      await open(b);
      assert.ok(!b.recovered, 'no connection state recovery');
      // b is not in the session until it asks again: it does not hear who joins...
      const bJoined = recorder(b, 'userJoined');
      const c = await connect(t, w.tokens.gestionnaire_des_salles);
      assert.equal((await request(c, 'joinSession', { session_id: session })).ok, true);
      await sleep(QUIET_MS);
      assert.equal(bJoined.received.length, 0);
      // ...and once it joins again, a hears it, so what a last heard about b is true.
      assert.equal((await request(b, 'joinSession', { session_id: session })).ok, true);
      await sleep(QUIET_MS);
      const aboutB = presence.filter((p) => p.endsWith(w.users.exposant.id));
      const b_ = w.users.exposant.id;
      assert.deepEqual(aboutB, [`joined ${b_}`, `left ${b_}`, `joined ${b_}`]);
    });
  });

  describe('attendanceMarked and attendanceUpdate', () => {
    it('attendanceMarked to the participant’s own sockets only, attendanceUpdate to staff only', async () => {
      const room = await createRoom(t, w.event.id);
      const session = await createSession(t, w.event.id, room, {
        start: new Date(Date.now() - 10 * 60_000),
        end: new Date(Date.now() + HOUR),
      });
      const p = await createMember(t, w.event.id);
      const p1 = await connect(t, p.token);
      const p2 = await connect(t, (await openSession(t, p.user.id, w.event.id)).access);
      const mine = await connectWorld(w);
      const theirs = await connectWorld(other);
      const marked = [p1, p2].map((s) => recorder(s, 'attendanceMarked'));
      const pUpdates = [p1, p2].map((s) => recorder(s, 'attendanceUpdate'));
      const staffUpdates = STAFF_ROLES.map((role) => recorder(mine[role], 'attendanceUpdate'));
      const notMarked = EVENT_ROLES.map((role) => recorder(mine[role], 'attendanceMarked'));
      const notUpdated = NON_STAFF.map((role) => recorder(mine[role], 'attendanceUpdate'));
      const leaks = EVENT_ROLES.flatMap((role) => [
        recorder(theirs[role], 'attendanceMarked'),
        recorder(theirs[role], 'attendanceUpdate'),
      ]);

      const ack = await request<{ attendance: { id: string }; created: boolean }>(p1, 'markAttendance', {
        session_id: session,
      });
      assert.ok(ack.ok && ack.data?.created, JSON.stringify(ack));
      const attendanceId = ack.ok ? ack.data?.attendance.id : undefined;
      for (const rec of marked) {
        const m = await rec.next();
        assert.equal(m.session_id, session);
        assert.equal(m.created, true);
        assert.equal(m.attendance.id, attendanceId);
        assert.equal(m.attendance.participant_id, p.participant.id);
        assert.equal(m.attendance.method, 'self');
      }
      for (const rec of staffUpdates) {
        const u = await rec.next();
        assert.equal(u.session_id, session);
        assert.equal(u.participant_id, p.participant.id);
        assert.equal(u.method, 'self');
        assert.equal(u.present, 1);
      }
      // A repeat creates nothing and tells nobody.
      const again = await request<{ created: boolean }>(p2, 'markAttendance', { session_id: session });
      assert.ok(again.ok && again.data?.created === false, JSON.stringify(again));
      await sleep(QUIET_MS);
      for (const rec of [...marked, ...staffUpdates]) assert.equal(rec.received.length, 1);
      for (const rec of [...pUpdates, ...notMarked, ...notUpdated, ...leaks]) assert.equal(rec.received.length, 0);
    });
  });

  describe('attendanceUpdate with settings.public_attendance', () => {
    it('every socket of the event gets the count without who; staff once, with who; other events nothing', async () => {
      const pub = await createWorld(t, { settings: { public_attendance: true } });
      const room = await createRoom(t, pub.event.id);
      const session = await createSession(t, pub.event.id, room, {
        start: new Date(Date.now() - 10 * 60_000),
        end: new Date(Date.now() + HOUR),
      });
      const p = await createMember(t, pub.event.id);
      const own = await connect(t, p.token);
      const sockets = await connectWorld(pub);
      const theirs = await connectWorld(other);
      const updates = EVENT_ROLES.map((role) => [role, recorder(sockets[role], 'attendanceUpdate')] as const);
      const ownUpdate = recorder(own, 'attendanceUpdate');
      const leaks = EVENT_ROLES.map((role) => recorder(theirs[role], 'attendanceUpdate'));

      const ack = await request(own, 'markAttendance', { session_id: session });
      assert.ok(ack.ok, JSON.stringify(ack));
      for (const [role, rec] of updates) {
        const u = await rec.next();
        assert.equal(u.session_id, session, role);
        assert.equal(u.present, 1, role);
        assert.equal(u.participant_id, STAFF_ROLES.includes(role) ? p.participant.id : null, role);
      }
      assert.equal((await ownUpdate.next()).participant_id, null);
      await sleep(QUIET_MS);
      for (const [role, rec] of updates) assert.equal(rec.received.length, 1, role);
      for (const rec of leaks) assert.equal(rec.received.length, 0);
    });
  });

  describe('attendanceUpdate is coalesced', () => {
    it('40 parallel marks: a few pushes per interval, the last with the final count', async () => {
      const room = await createRoom(t, w.event.id);
      const session = await createSession(t, w.event.id, room, {
        start: new Date(Date.now() - 10 * 60_000),
        end: new Date(Date.now() + HOUR),
      });
      const staff = await connect(t, w.tokens.organisateur);
      const updates = recorder(staff, 'attendanceUpdate');
      const members = await Promise.all(Array.from({ length: 40 }, () => createMember(t, w.event.id)));
      const started = Date.now();
      const answers = await Promise.all(
        members.map((m) => fire(t.http.post(`/api/sessions/${session}/attend/`).set(bearer(m.token)).send({}))),
      );
      assert.deepEqual(tally(answers), { 200: 40 });
      await sleep(PUSH_INTERVAL_MS * 2 + QUIET_MS);
      const got = updates.received.filter((u) => u.session_id === session);
      const elapsed = Date.now() - started;
      assert.ok(got.length >= 1 && got.length <= Math.ceil(elapsed / PUSH_INTERVAL_MS) + 1, `${got.length} pushes`);
      assert.equal(got.at(-1)?.present, 40, 'the last push carries the final count');
    });
  });

  describe('lifecycle', () => {
    it('logout closes that session’s socket within 1 s; another session of the same user stays', async () => {
      const m = await createMember(t, w.event.id);
      const second = await openSession(t, m.user.id, w.event.id);
      const room = await createRoom(t, w.event.id);
      const session = await createSession(t, w.event.id, room);
      const s1 = await connect(t, m.token);
      const s2 = await connect(t, second.access);
      const told = recorder(s1, 'error');
      const gone = disconnection(s1, 1000);
      await t.http.post('/api/auth/logout/').set(bearer(m.token)).send({}).expect(204);
      assert.equal(await gone, 'io server disconnect');
      assert.equal((await told.next()).code, 'TOKEN_INVALID');
      await sleep(QUIET_MS);
      assert.equal(s2.connected, true);
      assert.equal((await request(s2, 'joinSession', { session_id: session })).ok, true);
      assert.equal((await refusal(t, m.token)).message, 'TOKEN_INVALID');
    });

    it('a password change closes the user’s other sessions, not the one that changed it', async () => {
      const m = await createMember(t, w.event.id);
      const others = [await openSession(t, m.user.id, w.event.id), await openSession(t, m.user.id, w.event.id)];
      const own = await connect(t, m.token);
      const sockets = await Promise.all(others.map((o) => connect(t, o.access)));
      const gone = sockets.map((s) => disconnection(s, 1000));
      await t.http
        .post('/api/auth/change-password/')
        .set(bearer(m.token))
        .send({ old_password: PASSWORD, new_password: 'a-brand-new-password-42' })
        .expect(204);
      assert.deepEqual(await Promise.all(gone), ['io server disconnect', 'io server disconnect']);
      await sleep(QUIET_MS);
      assert.equal(own.connected, true);
      assert.equal((await refusal(t, others[0]?.access)).message, 'TOKEN_INVALID');
    });

    it('removing the member closes their socket within 1 s, and the token is then refused (MEMBERSHIP_REVOKED)', async () => {
      const staff = await createMember(t, w.event.id, 'controlleur_des_badges');
      const bystander = await connect(t, w.tokens.controlleur_des_badges);
      const socket = await connect(t, staff.token);
      const gone = disconnection(socket, 1000);
      const id = await assignmentId(w.event.id, staff.user.id);
      await t.http.delete(`/api/user-assignments/${id}/`).set(bearer(w.tokens.organisateur)).expect(204);
      assert.equal(await gone, 'io server disconnect');
      const error = await refusal(t, staff.token);
      assert.equal(error.message, 'MEMBERSHIP_REVOKED');
      assert.equal(error.data?.code, 'MEMBERSHIP_REVOKED');
      assert.equal(bystander.connected, true);
    });

    it('deactivating the membership closes the socket; the token is then refused (MEMBERSHIP_REVOKED)', async () => {
      const m = await createMember(t, w.event.id, 'exposant');
      const socket = await connect(t, m.token);
      const gone = disconnection(socket, 1000);
      const id = await assignmentId(w.event.id, m.user.id);
      await t.http
        .patch(`/api/user-assignments/${id}/`)
        .set(bearer(w.tokens.organisateur))
        .send({ is_active: false })
        .expect(200);
      assert.equal(await gone, 'io server disconnect');
      assert.equal((await refusal(t, m.token)).message, 'MEMBERSHIP_REVOKED');
    });

    it('switching event closes the socket of the session that switched', async () => {
      const user = await createUser(t);
      await assign(t, w.event.id, user.id, 'participant');
      await assign(t, other.event.id, user.id, 'participant');
      const pair = await openSession(t, user.id, w.event.id);
      const socket = await connect(t, pair.access);
      const gone = disconnection(socket, 1000);
      const res = await t.http
        .post('/api/auth/switch-event/')
        .set(bearer(pair.access))
        .send({ event_id: other.event.id })
        .expect(200);
      assert.equal(await gone, 'io server disconnect');
      (await connect(t, res.body.access as string)).close(); // control: the new session's token connects
    });

    it('reusing a spent refresh token closes the sockets of that session', async () => {
      const m = await createMember(t, w.event.id);
      const pair = await openSession(t, m.user.id, w.event.id);
      const socket = await connect(t, pair.access);
      const bystander = await connect(t, m.token);
      const rotated = await t.http.post('/api/auth/token/refresh/').send({ refresh: pair.refresh }).expect(200);
      const afterRotation = await connect(t, rotated.body.access as string);
      await sleep(QUIET_MS);
      assert.equal(socket.connected, true, 'a normal rotation closes nothing');
      const gone = [disconnection(socket, 1000), disconnection(afterRotation, 1000)];
      await t.http.post('/api/auth/token/refresh/').send({ refresh: pair.refresh }).expect(401);
      assert.deepEqual(await Promise.all(gone), ['io server disconnect', 'io server disconnect']);
      assert.equal(bystander.connected, true);
    });

    it('logout naming the refresh token of another own session closes that session’s socket too', async () => {
      const m = await createMember(t, w.event.id);
      const second = await openSession(t, m.user.id, w.event.id);
      const third = await openSession(t, m.user.id, w.event.id);
      const s1 = await connect(t, m.token);
      const s2 = await connect(t, second.access);
      const s3 = await connect(t, third.access);
      const gone = [disconnection(s1, 1000), disconnection(s2, 1000)];
      await t.http.post('/api/auth/logout/').set(bearer(m.token)).send({ refresh: second.refresh }).expect(204);
      assert.deepEqual(await Promise.all(gone), ['io server disconnect', 'io server disconnect']);
      await sleep(QUIET_MS);
      assert.equal(s3.connected, true);
    });

    it('a role change closes the socket within 1 s; reconnected, it gets what the new role gets', async () => {
      const demoted = await createMember(t, w.event.id, 'gestionnaire_des_salles');
      const promoted = await createMember(t, w.event.id, 'participant');
      const sockets = [await connect(t, demoted.token), await connect(t, promoted.token)];
      const gone = sockets.map((s) => disconnection(s, 1000));
      for (const [who, role] of [
        [demoted, 'participant'],
        [promoted, 'gestionnaire_des_salles'],
      ] as const) {
        const id = await assignmentId(w.event.id, who.user.id);
        await t.http
          .patch(`/api/user-assignments/${id}/`)
          .set(bearer(w.tokens.organisateur))
          .send({ role })
          .expect(200);
      }
      assert.deepEqual(await Promise.all(gone), ['io server disconnect', 'io server disconnect']);

      const again = { demoted: await connect(t, demoted.token), promoted: await connect(t, promoted.token) };
      const demotedScans = recorder(again.demoted, 'accessScanned');
      const promotedScans = recorder(again.promoted, 'accessScanned');
      const room = await createRoom(t, w.event.id);
      const m = await createMember(t, w.event.id);
      await scan(room, m.qr);
      await promotedScans.next((x) => x.room_id === room);
      await sleep(QUIET_MS);
      assert.equal(demotedScans.received.length, 0);
    });
  });

  describe('reconnection (no connection state recovery)', () => {
    /**
     * A staff socket that has received a broadcast (so its client holds an offset to recover from) and joined `room`,
     * then loses its transport.
     */
    const staffAway = async (room: string) => {
      const staff = await createMember(t, w.event.id, 'gestionnaire_des_salles');
      const socket = client(t, staff.token, { reconnection: false });
      const frames = wire(socket);
      await open(socket);
      const scans = recorder(socket, 'accessScanned');
      const occ = recorder(socket, 'roomOccupancy');
      assert.equal((await request(socket, 'joinRoom', { room_id: room })).ok, true);
      const first = await createMember(t, w.event.id);
      await scan(room, first.qr);
      await scans.next((x) => x.room_id === room);
      await occ.next((x) => x.room_id === room);
      socket.io.engine.close();
      await disconnection(socket, 1000);
      await sleep(200); // the server sees the transport close and keeps the session
      scans.received.length = 0;
      occ.received.length = 0;
      frames.length = 0;
      return { staff, socket, scans, occ, frames };
    };

    const demote = async (userId: string) => {
      const id = await assignmentId(w.event.id, userId);
      await t.http
        .patch(`/api/user-assignments/${id}/`)
        .set(bearer(w.tokens.organisateur))
        .send({ role: 'participant' })
        .expect(200);
    };

    it('a staff socket back after a transport close is a new connection: missed scans are not replayed', async () => {
      const room = await createRoom(t, w.event.id);
      const away = await staffAway(room);
      const missed = await createMember(t, w.event.id);
      const decision = await scan(room, missed.qr);
      await sleep(PUSH_INTERVAL_MS);
      await open(away.socket);
      assert.ok(!away.socket.recovered, 'no connection state recovery');
      // Control: the socket is connected with its staff rooms, so it gets the next scan...
      const next = await createMember(t, w.event.id);
      const later = await scan(room, next.qr);
      await away.scans.next((x) => x.access_id === later.access_id);
      // ...but not the one made while it was away.
      assert.equal(away.scans.received.filter((x) => x.access_id === decision.access_id).length, 0);
    });

    it('a role lost while away: once back, live scans and occupancy no longer reach the socket', async () => {
      const room = await createRoom(t, w.event.id);
      const away = await staffAway(room);
      await demote(away.staff.user.id);
      await open(away.socket);
      assert.ok(!away.socket.recovered, 'a fresh connection, with the rooms of the role it has now');
      const control = await connect(t, w.tokens.gestionnaire_des_salles);
      const controlScans = recorder(control, 'accessScanned');
      const controlOcc = recorder(control, 'roomOccupancy');
      const since = away.scans.received.length + away.occ.received.length;
      const m = await createMember(t, w.event.id);
      const decision = await scan(room, m.qr);
      await controlScans.next((x) => x.access_id === decision.access_id);
      await controlOcc.next((x) => x.room_id === room);
      await sleep(QUIET_MS);
      assert.equal(away.scans.received.length + away.occ.received.length, since, 'a staff message after reconnecting');
    });

    it('a role lost while away: the scans made after the loss are not replayed on reconnection', async () => {
      const room = await createRoom(t, w.event.id);
      const away = await staffAway(room);
      await demote(away.staff.user.id);
      const m = await createMember(t, w.event.id);
      const decision = await scan(room, m.qr);
      await sleep(PUSH_INTERVAL_MS + 100);
      await open(away.socket);
      assert.ok(!away.socket.recovered);
      await sleep(QUIET_MS);
      const leaked = [
        ...away.scans.received.map((x) => `accessScanned ${x.access_id === decision.access_id ? 'of the scan' : ''}`),
        ...away.occ.received.map((x) => `roomOccupancy ${x.current_participants}`),
      ];
      assert.deepEqual(leaked, [], 'staff messages sent after the role loss reached the demoted user');
    });

    it('logged out while away: the refused reconnection carries none of the missed scans', async () => {
      const room = await createRoom(t, w.event.id);
      const away = await staffAway(room);
      await t.http.post('/api/auth/logout/').set(bearer(away.staff.token)).send({}).expect(204);
      const m = await createMember(t, w.event.id);
      const decision = await scan(room, m.qr);
      await sleep(PUSH_INTERVAL_MS + 100);
      await assert.rejects(open(away.socket), (e: Error) => e.message === 'TOKEN_INVALID');
      await sleep(200);
      // Control: the refusal itself crossed the wire, so the frames were captured.
      assert.ok(
        away.frames.some((f) => f.startsWith('4') && f.includes('TOKEN_INVALID')),
        JSON.stringify(away.frames),
      );
      const leaked = away.frames.filter((f) => f.includes('accessScanned') || f.includes('roomOccupancy'));
      assert.deepEqual(
        leaked.map((f) => (f.includes(decision.access_id) ? 'the scan after logout' : f.slice(0, 40))),
        [],
        'frames sent to a logged-out client',
      );
      assert.equal(await countRows(t, 'auth_sessions', 'user_id = $1 AND revoked_at IS NULL', [away.staff.user.id]), 0);
    });
  });
});
