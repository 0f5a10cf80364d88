import assert from 'node:assert/strict';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo, Socket as NetSocket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Server, type ServerOptions } from 'socket.io';
import { io as connectClient, type Socket as ClientSocket } from 'socket.io-client';
import { FanoutAdapter } from './fanout-adapter';
import { SlowConsumerSweeper, unsentOf } from './slow-consumers';

const LIMIT = 64 * 1024;
const waitFor = async (what: string, done: () => boolean, ms = 10_000): Promise<void> => {
  const until = Date.now() + ms;
  while (!done()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

/*
 * A client that stops reading (its TCP socket paused: the kernel's buffers fill, then the server's) must not make
 * the server hold its pushes without end, and the clients that keep up must not notice anything.
 */
describe('SlowConsumerSweeper', () => {
  let http: HttpServer;
  let server: Server;
  let stuck: ClientSocket;
  let reader: ClientSocket;
  let received = 0;

  before(async () => {
    http = createServer();
    server = new Server(http, {
      transports: ['websocket'],
      adapter: FanoutAdapter as unknown as NonNullable<ServerOptions['adapter']>,
    });
    server.on('connection', (socket) => void socket.join('all'));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const { port } = http.address() as AddressInfo;
    const open = () =>
      new Promise<ClientSocket>((resolve) => {
        const c = connectClient(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false });
        c.once('connect', () => resolve(c));
      });
    [stuck, reader] = await Promise.all([open(), open()]);
    reader.on('push', () => (received += 1));
    await waitFor('both in the room', () => (server.sockets.adapter.rooms.get('all')?.size ?? 0) === 2);
  });
  const rawOf = (c: ClientSocket) => (c.io.engine.transport as unknown as { ws: { _socket: NetSocket } }).ws._socket;
  after(async () => {
    rawOf(stuck).destroy(); // a paused socket would hold the server's close for ws's 30 s close timeout
    stuck.close();
    reader.close();
    await server.close();
  });

  it('disconnects the socket that holds more than the limit unsent, and only it; the reader gets everything', async () => {
    const sweeper = new SlowConsumerSweeper(server, LIMIT);
    // The stuck client stops reading: nothing it is sent leaves the server once the kernel's buffers are full.
    rawOf(stuck).pause();
    const payload = 'x'.repeat(16 * 1024);
    const pushes = 1_500; // 24 MB: more than loopback's socket buffers hold
    for (let i = 0; i < pushes; i += 1) server.to('all').emit('push', i, payload);
    await waitFor('the reader to get every push', () => received === pushes);

    const [onServerStuck, onServerReader] = [
      server.sockets.sockets.get(stuck.id!)!,
      server.sockets.sockets.get(reader.id!)!,
    ];
    // The condition the sweeper acts on really occurs (negative control): the server holds megabytes for it.
    assert.ok(unsentOf(onServerStuck).bytes > LIMIT, `stuck socket holds ${unsentOf(onServerStuck).bytes} bytes`);
    assert.ok(unsentOf(onServerReader).bytes <= LIMIT);
    assert.equal(new SlowConsumerSweeper(server, 1024 * 1024 * 1024).sweep(), 0, 'under a high limit, nobody goes');
    assert.equal(server.sockets.sockets.size, 2);

    const stuckId = stuck.id!;
    const reason = new Promise<string>((resolve) => stuck.once('disconnect', (r) => resolve(r)));
    assert.equal(sweeper.sweep(), 1);
    // The connection itself is closed at once (not a disconnect packet queued behind megabytes): engine.io lets go
    // of it, and so of what it held.
    await waitFor('the stuck connection to close', () => server.engine.clientsCount === 1, 2_000);
    assert.equal(server.sockets.sockets.has(stuckId), false, 'the stuck socket is gone');
    assert.equal(server.sockets.sockets.has(reader.id!), true, 'the reader stays');
    assert.equal(sweeper.disconnected, 1);
    assert.equal(sweeper.sweep(), 0, 'nothing left to sweep');
    // Reading again, the stuck client learns it was cut off with a reason after which socket.io-client reconnects.
    rawOf(stuck).resume();
    assert.equal(await reason, 'transport close');

    server.to('all').emit('push', pushes, 'after');
    await waitFor('the reader to get the next push', () => received === pushes + 1);
  });
});
