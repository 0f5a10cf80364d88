import assert from 'node:assert/strict';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
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
});
