import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  bearer,
  createMember,
  createRoom,
  createSession,
  createWorld,
  openSession,
  type World,
} from './helpers/factories';
import { sharedRedisEnv, startPair, type Instance } from './helpers/instance';
import { closeAllClients, connect, disconnection, recorder, refusal, request } from './helpers/sockets';
import type { TestApp } from './helpers/test-app';

/*
 * Two instances of the app (this process and `node dist/src/main.js`) sharing one Redis: they behave as one. A scan,
 * a session change, a logout or a role removal on instance A reaches the sockets connected to instance B.
 */

describe('several instances with Redis', () => {
  let a: TestApp;
  let b: Instance;
  let close: () => Promise<void>;
  let w: World;

  before(async () => {
    ({ a, b, close } = await startPair({ ...sharedRedisEnv(), OCCUPANCY_PUSH_INTERVAL_MS: '100' }));
    w = await createWorld(a);
  });
  after(async () => {
    closeAllClients();
    await close();
  });

  it('a scan through instance A reaches a staff socket on instance B, and nothing reaches a participant', async () => {
    const room = await createRoom(a, w.event.id, { capacity: 5 });
    const onB = await connect(b.port, w.tokens.gestionnaire_des_salles);
    const participantOnB = await connect(b.port, w.tokens.participant);
    const occupancy = recorder(onB, 'roomOccupancy');
    const scans = recorder(onB, 'accessScanned');
    const leaked = recorder(participantOnB, 'accessScanned');
    const m = await createMember(a, w.event.id);
    const res = await a.http
      .post(`/api/rooms/${room}/verify_access/`)
      .set(bearer(w.tokens.organisateur))
      .send({ qr_data: m.qr });
    assert.equal(res.body.status, 'granted');
    assert.deepEqual(await occupancy.next((o) => o.room_id === room), {
      room_id: room,
      current_participants: 1,
      capacity: 5,
    });
    assert.equal((await scans.next((s) => s.room_id === room)).participant?.id, m.participant.id);
    assert.equal(leaked.received.length, 0);
  });

  it('a session changed on A is announced to the event on B', async () => {
    const room = await createRoom(a, w.event.id);
    const session = await createSession(a, w.event.id, room);
    const onB = await connect(b.port, w.tokens.exposant);
    const updates = recorder(onB, 'sessionUpdated');
    const res = await a.http
      .patch(`/api/sessions/${session}/`)
      .set(bearer(w.tokens.organisateur))
      .send({ title: 'Moved to the big hall' });
    assert.equal(res.status, 200);
    const u = await updates.next((x) => x.session_id === session);
    assert.equal((u.session as { title: string }).title, 'Moved to the big hall');
  });

  it('a logout on A disconnects the socket of that session on B within a second; another session stays', async () => {
    const m = await createMember(a, w.event.id);
    const other = (await openSession(a, m.user.id, w.event.id)).access;
    const onB = await connect(b.port, m.token);
    const otherOnB = await connect(b.port, other);
    const gone = disconnection(onB, 1000);
    const started = Date.now();
    assert.equal((await a.http.post('/api/auth/logout/').set(bearer(m.token)).send({})).status, 204);
    await gone;
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 1000, `disconnected after ${elapsed} ms`);
    assert.equal(otherOnB.connected, true);
    // The other session still works on B: its messages are answered.
    assert.equal((await request(otherOnB, 'leaveSession', { session_id: randomUUID() })).ok, true);
    assert.equal((await refusal(b.port, m.token)).message, 'TOKEN_INVALID');
  });

  it('removing a member on A disconnects their socket on B within a second', async () => {
    const m = await createMember(a, w.event.id);
    const onB = await connect(b.port, m.token);
    const rows: { id: string }[] = await a.db.query(
      'SELECT id FROM user_event_assignments WHERE event_id = $1 AND user_id = $2',
      [w.event.id, m.user.id],
    );
    const gone = disconnection(onB, 1000);
    const res = await a.http.delete(`/api/user-assignments/${rows[0]?.id}/`).set(bearer(w.tokens.organisateur));
    assert.equal(res.status, 204);
    await gone;
    assert.equal((await refusal(b.port, m.token)).message, 'MEMBERSHIP_REVOKED');
  });
  it('the session check cached by instance B is dropped when A logs the session out or changes the role', async () => {
    const m = await createMember(a, w.event.id);
    const onB = `http://127.0.0.1:${b.port}`;
    const me = () => fetch(`${onB}/api/auth/profile/`, { headers: bearer(m.token) });
    const rooms = (token: string) => fetch(`${onB}/api/room-access/conflicts/`, { headers: bearer(token) });
    assert.equal((await me()).status, 200); // B caches the check
    assert.equal((await a.http.post('/api/auth/logout/').set(bearer(m.token)).send({})).status, 204);
    assert.equal((await me()).status, 401);

    const staff = await createMember(a, w.event.id, 'gestionnaire_des_salles');
    assert.equal((await rooms(staff.token)).status, 200);
    const rows: { id: string }[] = await a.db.query(
      'SELECT id FROM user_event_assignments WHERE event_id = $1 AND user_id = $2',
      [w.event.id, staff.user.id],
    );
    const demoted = await a.http
      .patch(`/api/user-assignments/${rows[0]?.id}/`)
      .set(bearer(w.tokens.organisateur))
      .send({ role: 'participant' });
    assert.equal(demoted.status, 200);
    assert.equal((await rooms(staff.token)).status, 403);
  });
});

describe('several instances without Redis (negative control)', () => {
  let a: TestApp;
  let b: Instance;
  let close: () => Promise<void>;
  let w: World;

  before(async () => {
    ({ a, b, close } = await startPair({ OCCUPANCY_PUSH_INTERVAL_MS: '100' }));
    w = await createWorld(a);
  });
  after(async () => {
    closeAllClients();
    await close();
  });

  it('each instance only reaches its own sockets: what the Redis tests above prove is not a given', async () => {
    const room = await createRoom(a, w.event.id);
    const onA = await connect(a, w.tokens.gestionnaire_des_salles);
    const onB = await connect(b.port, w.tokens.gestionnaire_des_salles);
    const seenOnA = recorder(onA, 'accessScanned');
    const seenOnB = recorder(onB, 'accessScanned');
    const m = await createMember(a, w.event.id);
    await a.http.post(`/api/rooms/${room}/verify_access/`).set(bearer(w.tokens.organisateur)).send({ qr_data: m.qr });
    await seenOnA.next((s) => s.room_id === room);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(seenOnB.received.length, 0);
  });
});
