import type { AddressInfo } from 'node:net';
import { io, type Socket } from 'socket.io-client';
import assert from 'node:assert/strict';
import type { Ack, ClientToServerEvents, ServerToClientEvents, SocketError } from '../../src/realtime/realtime.events';
import type { TestApp } from './test-app';

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** The base URL of a listening app (or of another instance's port). */
export function baseUrl(t: TestApp | number): string {
  const port = typeof t === 'number' ? t : (t.app.getHttpServer().address() as AddressInfo).port;
  return `http://127.0.0.1:${port}`;
}

const opened: ClientSocket[] = [];

/** A socket.io client that has not connected yet (websocket only, no reconnection unless asked). */
export function client(
  t: TestApp | number,
  token: string | undefined,
  opts: Parameters<typeof io>[1] = {},
): ClientSocket {
  const socket: ClientSocket = io(baseUrl(t), {
    path: '/socket.io',
    transports: ['websocket'],
    reconnection: false,
    autoConnect: false,
    forceNew: true,
    auth: token === undefined ? {} : { token },
    ...opts,
  });
  opened.push(socket);
  return socket;
}

/** Connects, resolving once connected and rejecting with the `connect_error`. */
export function connect(
  t: TestApp | number,
  token: string | undefined,
  opts: Parameters<typeof io>[1] = {},
): Promise<ClientSocket> {
  const socket = client(t, token, opts);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
    socket.connect();
  });
}

/** The `connect_error` of a refused handshake: `{message, data}`. */
export async function refusal(
  t: TestApp | number,
  token: string | undefined,
  opts: Parameters<typeof io>[1] = {},
): Promise<{ message: string; data?: { code?: string } }> {
  try {
    const socket = await connect(t, token, opts);
    socket.close();
  } catch (error) {
    return error as { message: string; data?: { code?: string } };
  }
  throw new Error('the handshake was accepted');
}

/** Sends a client event and waits for its acknowledgement. */
export function request<T = unknown>(socket: ClientSocket, event: string, payload: unknown, timeoutMs = 5000) {
  return (socket.timeout(timeoutMs) as unknown as { emitWithAck(e: string, p: unknown): Promise<Ack<T>> }).emitWithAck(
    event,
    payload,
  );
}

/** Collects every message of one kind a socket receives, for later assertions. */
export function recorder<K extends keyof ServerToClientEvents>(socket: ClientSocket, event: K) {
  const received: Parameters<ServerToClientEvents[K]>[0][] = [];
  socket.on(event as never, ((message: Parameters<ServerToClientEvents[K]>[0]) => received.push(message)) as never);
  return {
    received,
    /** Resolves with the first message matching `match` (already received or to come). */
    async next(
      match: (m: Parameters<ServerToClientEvents[K]>[0]) => boolean = () => true,
      timeoutMs = 3000,
    ): Promise<Parameters<ServerToClientEvents[K]>[0]> {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const found = received.find(match);
        if (found !== undefined) return found;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(`no ${String(event)} message within ${timeoutMs} ms`);
    },
  };
}

/** Resolves when the socket is disconnected, with the reason; rejects after the timeout. */
export function disconnection(socket: ClientSocket, timeoutMs = 3000): Promise<string> {
  if (socket.disconnected) return Promise.resolve('already disconnected');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still connected after ${timeoutMs} ms`)), timeoutMs);
    socket.once('disconnect', (reason) => {
      clearTimeout(timer);
      resolve(reason);
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Closes every client this file opened (call it in `after`). */
export function closeAllClients(): void {
  for (const socket of opened.splice(0)) socket.close();
}

/** The data of an acknowledgement that must be `{ok: true}`. */
export function expectOk<T>(ack: Ack<T>): T {
  assert.equal(ack.ok, true, `expected ok, got ${JSON.stringify(ack)}`);
  return (ack as { data: T }).data;
}

/** A refusal in the documented shape: `{ok: false, error: {code, message, errors?, ...details}}`, no stack. */
export function expectRefused(ack: Ack<unknown>, code: string, what = ''): SocketError {
  assert.equal(ack.ok, false, `${what}: expected ${code}, got ${JSON.stringify(ack)}`);
  assert.deepEqual(Object.keys(ack).sort(), ['error', 'ok'], `${what}: ack keys`);
  const { error } = ack as { ok: false; error: SocketError };
  assert.equal(error.code, code, `${what}: ${JSON.stringify(error)}`);
  assert.ok(typeof error.message === 'string' && error.message.length > 0, `${what}: a message`);
  assert.doesNotMatch(JSON.stringify(error), /\.(ts|js):\d+|(\\n|\n)\s*at \S/, `${what}: no stack`);
  if (code === 'VALIDATION_FAILED') {
    for (const key of Object.keys(error)) assert.ok(['code', 'message', 'errors'].includes(key), `${what}: ${key}`);
  }
  return error;
}
