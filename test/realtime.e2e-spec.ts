import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bearer, createMember, createRoom, createSession, createWorld, type World } from './helpers/factories';
import { closeAllClients, connect, disconnection, recorder, refusal, request, sleep } from './helpers/sockets';
import { bootTestApp, type TestApp } from './helpers/test-app';

/*
 * The socket.io gateway end to end: handshake authentication, rooms, who receives what, client events with their
 * acknowledgements, and how logout and role changes close sockets.
 */

describe('realtime gateway', () => {
  let t: TestApp;
  let w: World;

  before(async () => {
    t = await bootTestApp({ OCCUPANCY_PUSH_INTERVAL_MS: '100' });
    w = await createWorld(t);
  });
  after(async () => {
    closeAllClients();
    await t.close();
  });

  it('refuses a handshake without a token, with a bad one and with a revoked one', async () => {
    const none = await refusal(t, undefined);
    assert.equal(none.message, 'AUTH_REQUIRED');
    assert.equal(none.data?.code, 'AUTH_REQUIRED');
    const bad = await refusal(t, 'not-a-jwt');
    assert.equal(bad.message, 'TOKEN_INVALID');
    const m = await createMember(t, w.event.id);
    const ok = await connect(t, m.token);
    const gone = disconnection(ok);
    const res = await t.http.post('/api/auth/logout/').set(bearer(m.token)).send({});
    assert.equal(res.status, 204);
    await gone;
    const revoked = await refusal(t, m.token);
    assert.equal(revoked.message, 'TOKEN_INVALID');
  });

  it('pushes occupancy and scans to staff, not to participants', async () => {
    const room = await createRoom(t, w.event.id, { capacity: 10 });
    const staff = await connect(t, w.tokens.gestionnaire_des_salles);
    const participant = await connect(t, w.tokens.participant);
    const occ = recorder(staff, 'roomOccupancy');
    const scans = recorder(staff, 'accessScanned');
    const pOcc = recorder(participant, 'roomOccupancy');
    const m = await createMember(t, w.event.id);
    const res = await t.http
      .post(`/api/rooms/${room}/verify_access/`)
      .set(bearer(w.tokens.organisateur))
      .send({ qr_data: m.qr });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status, 'granted');
    const o = await occ.next((x) => x.room_id === room);
    assert.deepEqual(o, { room_id: room, current_participants: 1, capacity: 10 });
    const s = await scans.next((x) => x.room_id === room);
    assert.equal(s.participant?.id, m.participant.id);
    await sleep(200);
    assert.equal(pOcc.received.length, 0);
  });

  it('acknowledges joinSession and tells the others who joined', async () => {
    const room = await createRoom(t, w.event.id);
    const session = await createSession(t, w.event.id, room);
    const a = await connect(t, w.tokens.participant);
    const b = await connect(t, w.tokens.exposant);
    const joined = recorder(a, 'userJoined');
    assert.deepEqual(await request(a, 'joinSession', { session_id: session }), {
      ok: true,
      data: { session_id: session },
    });
    assert.deepEqual(await request(b, 'joinSession', { session_id: session }), {
      ok: true,
      data: { session_id: session },
    });
    const j = await joined.next();
    assert.equal(j.user.id, w.users.exposant.id);
    const bad = await request(a, 'joinSession', { session_id: 'nope' });
    assert.equal(bad.ok, false);
    assert.equal(!bad.ok && bad.error.code, 'VALIDATION_FAILED');
  });

  it('closes the sockets of an event when it is deleted, and only those', async () => {
    const doomed = await createWorld(t);
    const inside = await connect(t, doomed.tokens.participant);
    const elsewhere = await connect(t, w.tokens.participant);
    const gone = disconnection(inside, 1000);
    const res = await t.http.delete(`/api/events/${doomed.event.id}/`).set(bearer(doomed.tokens.organisateur));
    assert.equal(res.status, 204);
    await gone;
    await sleep(100);
    assert.equal(elsewhere.connected, true);
  });
});
