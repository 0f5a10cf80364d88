import { Logger } from '@nestjs/common';
import type { Server, Socket } from 'socket.io';
import { ThrottledWarning } from '../common/throttled-warning';

/** What the sweep reads of engine.io's connection: its packet queue and its websocket's unsent bytes. */
interface EngineConnection {
  writeBuffer?: unknown[];
  transport?: { name?: string; socket?: { bufferedAmount?: number; terminate?: () => void } };
  close(discard?: boolean): void;
}

/** Packets engine.io may hold for one socket while its transport is busy (occupancy pushes come at ~2 per second). */
const MAX_QUEUED_PACKETS = 2_000;

/**
 * What the server holds for one socket that it could not send yet: the bytes its websocket could not hand to the
 * kernel, and the packets engine.io queued meanwhile.
 */
export function unsentOf(socket: Socket): { bytes: number; packets: number } {
  const { conn, ws } = connectionOf(socket);
  return { bytes: ws?.bufferedAmount ?? 0, packets: conn.writeBuffer?.length ?? 0 };
}

/** A socket's engine.io connection, and its websocket when that is the transport. */
function connectionOf(socket: Socket) {
  const conn = socket.conn as unknown as EngineConnection;
  return { conn, ws: conn.transport?.name === 'websocket' ? conn.transport.socket : undefined };
}

/**
 * Closes a connection at once, dropping what it holds: a websocket is terminated (no closing handshake, which would
 * wait behind the unsent data), any other transport closed with its queue discarded. socket.io then disconnects the
 * socket with `transport close`, a reason after which clients reconnect by themselves (a server-side `disconnect()`
 * would queue a packet behind the backlog, hold the memory until the ping timeout, and its reason, `io server
 * disconnect`, stops the client's reconnection).
 */
function dropConnection(socket: Socket): void {
  const { conn, ws } = connectionOf(socket);
  if (typeof ws?.terminate === 'function') ws.terminate();
  else conn.close(true);
}

/**
 * Slow or stuck clients (a phone on a dead network that the kernel still considers connected, a client that stopped
 * reading) do not make the server hold their pushes without end: every `intervalMs`, a socket holding more than
 * `maxBytes` unsent (or more than 2,000 queued packets) has its connection closed (`dropConnection`). Its client
 * reconnects, is authenticated afresh and resynchronises through the API, as after any reconnection. Sockets that
 * keep up hold almost nothing.
 */
export class SlowConsumerSweeper {
  private timer: NodeJS.Timeout | null = null;
  /** Sockets disconnected since the server started. */
  disconnected = 0;
  private readonly warnings = new ThrottledWarning(new Logger('Realtime'));

  constructor(
    private readonly server: Server,
    private readonly maxBytes: number,
    private readonly intervalMs = 1_000,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => this.sweep(), this.intervalMs).unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Closes the connections of the sockets over the limits; answers how many. */
  sweep(): number {
    let count = 0;
    let worst = 0;
    for (const socket of this.server.of('/').sockets.values()) {
      const { bytes, packets } = unsentOf(socket);
      if (bytes <= this.maxBytes && packets <= MAX_QUEUED_PACKETS) continue;
      worst = Math.max(worst, bytes);
      dropConnection(socket);
      count += 1;
    }
    if (count > 0) {
      this.disconnected += count;
      this.warnings.warn(
        { sockets: count, unsentBytes: worst, limitBytes: this.maxBytes },
        'Disconnected sockets that do not keep up with their pushes',
      );
    }
    return count;
  }
}
