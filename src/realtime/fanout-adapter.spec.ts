import assert from 'node:assert/strict';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it, mock } from 'node:test';
import { Logger } from '@nestjs/common';
import { Server, type ServerOptions } from 'socket.io';
import { io as connectClient, type Socket as ClientSocket } from 'socket.io-client';
import { FanoutAdapter } from './fanout-adapter';

/*
 * The adapter writes a broadcast straight to a websocket that is idle and leaves a busy one to engine.io's queue. A
 * socket's own messages and broadcasts sent in the same tick must arrive exactly in the order they were sent, with
 * both paths taken.
 */
describe('FanoutAdapter', () => {
  let http: HttpServer;
  let server: Server;
  const clients: ClientSocket[] = [];

  before(async () => {
    http = createServer();
    server = new Server(http, {
      transports: ['websocket'],
      adapter: FanoutAdapter as unknown as NonNullable<ServerOptions['adapter']>,
    });
    server.on('connection', (socket) => void socket.join(['all', socket.handshake.auth.group as string]));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const { port } = http.address() as AddressInfo;
    for (let i = 0; i < 20; i += 1) {
      const client = connectClient(`http://127.0.0.1:${port}`, {
        transports: ['websocket'],
        forceNew: true,
        reconnection: false,
        auth: { group: i % 2 === 0 ? 'even' : 'odd' },
      });
      clients.push(client);
      await new Promise((resolve) => client.once('connect', resolve as () => void));
    }
  });
  after(async () => {
    for (const c of clients) c.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it('own messages and broadcasts sent in the same tick arrive in order, once each, through both paths', async () => {
    const received = clients.map(() => [] as string[]);
    clients.forEach((c, i) => c.onAny((event: string, n: number) => received[i]?.push(`${event} ${n}`)));
    const sockets = [...server.of('/').sockets.values()];
    const rounds = 50;
    for (let n = 0; n < rounds; n += 1) {
      // Half the sockets are busy with a message of their own when the broadcast goes out, half are idle.
      sockets.forEach((s, i) => {
        if ((i + n) % 2 === 0) s.emit('own', n);
      });
      server.to('all').emit('everyone', n);
      // Two rooms at once: a socket in both would get it twice if the adapter did not skip it.
      server.to(['all', 'even']).emit('rooms', n);
      if (n % 5 === 0) await new Promise((r) => setImmediate(r));
    }
    const expected = (i: number) => {
      const index = sockets.findIndex((s) => s.id === clients[i]?.id);
      return Array.from({ length: rounds }, (_, n) => [
        ...((index + n) % 2 === 0 ? [`own ${n}`] : []),
        `everyone ${n}`,
        `rooms ${n}`,
      ]).flat();
    };
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && received.some((r, i) => r.length < expected(i).length)) {
      await new Promise((r) => setTimeout(r, 20));
    }
    received.forEach((r, i) => assert.deepEqual(r, expected(i), `client ${i}`));
  });
  describe('in slices (a room larger than a slice)', () => {
    const slice = FanoutAdapter.sliceSize;
    before(() => (FanoutAdapter.sliceSize = 3));
    after(() => (FanoutAdapter.sliceSize = slice));

    const pending = () => (server.of('/').adapter as unknown as { deliveries: unknown[] }).deliveries.length;

    async function collect(received: string[][], count: (i: number) => number): Promise<void> {
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline && received.some((r, i) => r.length < count(i))) {
        await new Promise((r) => setTimeout(r, 20));
      }
    }

    it('frees the event loop between slices, and keeps broadcasts in order, once each', async () => {
      const received = clients.map(() => [] as string[]);
      const listeners = clients.map((c, i) => {
        const listener = (event: string, n: number) => received[i]?.push(`${event} ${n}`);
        c.onAny(listener);
        return listener;
      });
      let turned = -1;
      server.to('all').emit('slices', 0);
      // 20 sockets in slices of 3: the first slice went out now, the rest wait for the event loop.
      assert.equal(pending(), 1);
      setImmediate(() => (turned = pending()));
      for (let n = 1; n < 30; n += 1) {
        server.to(n % 2 === 0 ? 'all' : ['all', 'even']).emit('slices', n);
      }
      await collect(received, () => 30);
      assert.equal(turned, 30, 'a callback queued after the first broadcast ran while all 30 were pending');
      received.forEach((r, i) =>
        assert.deepEqual(
          r,
          Array.from({ length: 30 }, (_, n) => `slices ${n}`),
          `client ${i}`,
        ),
      );
      clients.forEach((c, i) => c.offAny(listeners[i]));
    });

    it('skips a socket that left the rooms before its slice; the others get it (negative control)', async () => {
      const sockets = [...server.of('/').sockets.values()].filter((s) => s.rooms.has('odd'));
      const leaving = sockets[sockets.length - 1]!;
      const received = new Map<string, number[]>();
      for (const c of clients)
        c.on('left' as never, ((n: number) => received.set(c.id!, [...(received.get(c.id!) ?? []), n])) as never);
      server.to('odd').emit('left', 1);
      assert.equal(pending(), 1, 'the last socket of the room is in a later slice');
      void leaving.leave('odd');
      server.to('odd').emit('left', 2);
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline && sockets.some((s) => s !== leaving && (received.get(s.id)?.length ?? 0) < 2)) {
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, 100));
      for (const s of sockets) assert.deepEqual(received.get(s.id) ?? [], s === leaving ? [] : [1, 2], s.id);
      void leaving.join('odd');
      for (const c of clients) c.off('left' as never);
    });

    it('counts the sends still owed and warns once when they pile up past backlogWarning; nothing is dropped', async () => {
      const adapter = server.of('/').adapter as unknown as FanoutAdapter;
      const threshold = FanoutAdapter.backlogWarning;
      const warn = mock.method(Logger.prototype, 'warn', () => undefined);
      const received = clients.map(() => 0);
      const listeners = clients.map((c, i) => {
        const listener = () => (received[i] = (received[i] ?? 0) + 1);
        c.on('pile' as never, listener as never);
        return listener;
      });
      try {
        FanoutAdapter.backlogWarning = 100;
        server.to('all').emit('pile' as never);
        assert.equal(adapter.backlog, 20 - 3, 'one slice of 3 went out at once');
        assert.equal(warn.mock.callCount(), 0, 'below the threshold: no warning (negative control)');
        for (let n = 1; n < 10; n += 1) server.to('all').emit('pile' as never);
        assert.equal(adapter.backlog, 200 - 3);
        assert.equal(warn.mock.callCount(), 1, 'one warning, however many broadcasts pile up');
        assert.match(String(warn.mock.calls[0]?.arguments[1]), /faster than they are delivered/);
        const deadline = Date.now() + 5000;
        while (Date.now() < deadline && received.some((n) => n < 10)) await new Promise((r) => setTimeout(r, 20));
        assert.deepEqual(received, Array<number>(clients.length).fill(10), 'every broadcast reached every socket');
        assert.equal(adapter.backlog, 0);
      } finally {
        FanoutAdapter.backlogWarning = threshold;
        warn.mock.restore();
        clients.forEach((c, i) => c.off('pile' as never, listeners[i] as never));
      }
    });

    it('a broadcast to rooms where nobody is is not encoded; one with recipients is (negative control)', async () => {
      const adapter = server.of('/').adapter as unknown as { _encode: (...args: unknown[]) => unknown };
      const encode = mock.method(adapter, '_encode');
      try {
        server.to('nobody-here').emit('unheard' as never);
        server.to(['nobody-here', 'nor-here']).emit('unheard' as never);
        assert.equal(encode.mock.callCount(), 0);
        server.to('even').emit('heard' as never);
        assert.equal(encode.mock.callCount(), 1);
      } finally {
        encode.mock.restore();
      }
      while (pending() > 0) await new Promise((r) => setImmediate(r));
    });

    // Last: it disconnects every client.
    it('a disconnection waits for the broadcasts sent before it: every socket gets the message, then is closed', async () => {
      const got = new Set<string>();
      const closed: string[] = [];
      for (const c of clients) {
        const id = c.id!;
        c.on('bye' as never, (() => got.add(id)) as never);
        c.on('disconnect', () => closed.push(got.has(id) ? 'after' : 'before'));
      }
      server.to('all').emit('bye' as never);
      assert.equal(pending(), 1, 'the broadcast is still being delivered');
      server.in('all').disconnectSockets(true);
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline && closed.length < clients.length) await new Promise((r) => setTimeout(r, 20));
      assert.equal(got.size, clients.length, 'every socket got the message');
      assert.deepEqual(closed, Array<string>(clients.length).fill('after'));
    });
  });
});
