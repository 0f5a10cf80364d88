import assert from 'node:assert/strict';
import type { Socket as NetSocket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { RealtimeBroadcaster, type IoServer } from '../src/realtime/realtime.broadcaster';
import { Rooms } from '../src/realtime/realtime.events';
import { createMember, createRoom, createSession, createWorld, type World } from './helpers/factories';
import { closeAllClients, connect, recorder, request, sleep, type ClientSocket } from './helpers/sockets';
import { bootTestApp, type TestApp } from './helpers/test-app';

/*
 * Broadcasts are written straight to idle websockets (src/realtime/fanout-adapter.ts) and go through engine.io's
 * queue when a socket is busy. Mixed with each socket's own replies, which keep the transports busy, no broadcast
 * may be lost, repeated or reordered.
 */
describe('broadcast delivery while sockets are busy with their own replies', () => {
  let t: TestApp;
  let w: World;

  before(async () => {
    t = await bootTestApp({ SOCKET_MESSAGES_PER_SEC: '1000' });
    w = await createWorld(t);
  });
  after(async () => {
    closeAllClients();
    await t.close();
  });

  it('40 session updates reach each of 30 sockets once and in order, while every socket sends 20 requests', async () => {
    const room = await createRoom(t, w.event.id);
    const session = await createSession(t, w.event.id, room);
    const members = await Promise.all(Array.from({ length: 30 }, () => createMember(t, w.event.id)));
    const sockets: ClientSocket[] = await Promise.all(members.map((m) => connect(t, m.token)));
    const heard = sockets.map((s) => recorder(s, 'sessionUpdated'));
    const organizer = await connect(t, w.tokens.organisateur);

    const chatter = Promise.all(
      sockets.flatMap((s) =>
        Array.from({ length: 20 }, () => request(s, 'getAttendanceStats', { session_id: session }, 10_000)),
      ),
    );
    const titles = Array.from({ length: 40 }, (_, i) => `Update ${i}`);
    for (const title of titles) {
      const ack = await request<unknown>(organizer, 'sessionUpdate', { session_id: session, title }, 10_000);
      assert.equal(ack.ok, true, JSON.stringify(ack));
    }
    const replies = await chatter;
    assert.equal(replies.length, 600, 'every request got its reply');

    const titleOf = (m: { session: object | null }) => (m.session as { title?: string } | null)?.title;
    for (const [i, h] of heard.entries()) {
      await h.next((m) => titleOf(m) === titles.at(-1), 10_000);
      const got = h.received.filter((m) => m.session_id === session).map(titleOf);
      assert.deepEqual(got, titles, `socket ${i}`);
    }
  });
});

/*
 * A client that stops reading is disconnected once the server holds more than SOCKET_MAX_UNSENT_KB for it (checked
 * every second, src/realtime/slow-consumers.ts); the others keep their connection and every push.
 */
describe('a socket that does not keep up (SOCKET_MAX_UNSENT_KB=64)', () => {
  let t: TestApp;
  let w: World;
  let raw: NetSocket | undefined;

  before(async () => {
    t = await bootTestApp({ SOCKET_MAX_UNSENT_KB: '64' });
    w = await createWorld(t);
  });
  after(async () => {
    raw?.destroy(); // paused, it would hold the app's close for ws's 30 s close timeout
    closeAllClients();
    await t.close();
  });

  it('is disconnected within seconds; a socket that reads stays and gets every push', async () => {
    const [a, b] = await Promise.all([1, 2].map(() => createMember(t, w.event.id)));
    const [stuck, reader] = await Promise.all([connect(t, a!.token), connect(t, b!.token)]);
    raw = (stuck.io.engine.transport as unknown as { ws: { _socket: NetSocket } }).ws._socket;
    raw.pause();
    let received = 0;
    reader.on('sessionUpdated', () => (received += 1));
    const server = (t.app.get(RealtimeBroadcaster, { strict: false }) as unknown as { server: IoServer }).server;
    const session = { id: 'x', title: 'y'.repeat(16 * 1024) };
    for (let i = 0; i < 1_500; i += 1) {
      server.to(Rooms.event(w.event.id)).emit('sessionUpdated', { session_id: 'x', session } as never);
    }
    const gone = Date.now();
    while (server.of('/').sockets.has(stuck.id!)) {
      assert.ok(Date.now() - gone < 5_000, 'the stuck socket is disconnected within 5 s');
      await sleep(50);
    }
    while (received < 1_500) {
      assert.ok(Date.now() - gone < 10_000, `the reader got ${received} of 1500`);
      await sleep(50);
    }
    assert.equal(server.of('/').sockets.has(reader.id!), true, 'the reader stays connected');
    assert.equal(server.engine.clientsCount, 1, 'the stuck connection itself is closed, the reader’s is not');
  });
});
