import { Logger } from '@nestjs/common';
import { Adapter, type BroadcastOptions, type Room } from 'socket.io-adapter';
import type { Namespace, Socket } from 'socket.io';
import { ThrottledWarning } from '../common/throttled-warning';

/** What a broadcast touches of socket.io's and engine.io's objects (their own pre-encoded websocket path). */
interface EngineConnection {
  readyState: string;
  writeBuffer: unknown[];
  transport: {
    name: string;
    writable: boolean;
    socket?: { _sender?: { sendFrame?: (frame: Buffer[], cb?: () => void) => void } };
  };
}
interface FanoutSocket {
  client: { conn: EngineConnection; writeToEngine(packets: unknown[], opts: object): void };
  _anyOutgoingListeners?: unknown[];
  notifyOutgoingListeners(packet: unknown): void;
}
interface PacketOptions {
  preEncoded: true;
  volatile?: boolean;
  compress?: boolean;
  wsPreEncodedFrame?: Buffer[];
}
/** The in-memory adapter as its subclasses see it at run time (its typings mark these members private). */
interface AdapterInternals {
  nsp: Namespace;
  rooms: Map<Room, Set<string>>;
  _encode(packet: { nsp?: string }, opts: PacketOptions): unknown[];
  apply(opts: BroadcastOptions, callback: (socket: Socket) => void): void;
  disconnectSockets(opts: BroadcastOptions, close: boolean): void;
}
const InMemoryAdapter = Adapter as unknown as new (nsp: Namespace) => AdapterInternals;

/**
 * A broadcast (or a disconnection) still going out: its recipients, how far it got, and what to do to one socket.
 */
interface Delivery {
  ids: string[];
  next: number;
  rooms: Set<Room> | null;
  deliver: (socket: Socket) => void;
}

/**
 * The in-memory adapter with a leaner broadcast (one instance; with `REDIS_URL` the Redis adapter is used instead).
 *
 * Leaner: socket.io encodes a broadcast once and, for websocket clients, builds its frame once (`wsPreEncodedFrame`);
 * then, per socket, it still goes through engine.io's packet queue (a packet object, flush and drain events, a write
 * callback that marks the transport writable again on the next tick) and writes header and payload as two buffers
 * (cork, writev, uncork). Measured on the 2-core machine (bench/fanout, 5,000 sockets), that per-socket work cost
 * as much CPU as the kernel's own send. Here the frame is one buffer, and a socket whose websocket is open and idle
 * (nothing queued, not between a write and its callback) gets it directly through the same `sendFrame` that engine.io
 * uses for pre-encoded frames: same bytes on the wire, same order. Any other socket (polling, busy, closing, volatile
 * packets, outgoing listeners) takes socket.io's own path.
 *
 * In slices: a send costs ~17 µs of kernel time here, so one broadcast to 5,000 sockets would hold the event loop for
 * ~85 ms, and every door scan arriving meanwhile would wait for it. A broadcast is delivered `sliceSize` sockets at a
 * time, with the event loop free between slices. Broadcasts stay in order among themselves (a later one waits until
 * the earlier ones are delivered); a socket's own replies, which do not go through the adapter, may arrive before a
 * broadcast still being delivered to a large room. Recipients are the sockets in the rooms when the broadcast is sent;
 * a socket that has left all of them (or disconnected) before its slice is skipped.
 */
export class FanoutAdapter extends InMemoryAdapter {
  /** Sockets per slice (a slice takes ~8 ms on the 2-core machine); tests lower it. */
  static sliceSize = 500;
  /**
   * A backlog above this many sends (about 1.7 s of sending on the 2-core machine) means broadcasts are made faster
   * than they can be delivered: logged as a warning, at most every 10 s. Nothing is dropped. Tests lower it.
   */
  static backlogWarning = 100_000;
  private readonly deliveries: Delivery[] = [];
  private scheduled = false;
  private pending = 0;
  private readonly warnings = new ThrottledWarning(new Logger('FanoutAdapter'));

  /** Sends still owed: the sockets not yet reached by the queued broadcasts and disconnections. */
  get backlog(): number {
    return this.pending;
  }

  broadcast(packet: { nsp?: string; data?: unknown }, opts: BroadcastOptions): void {
    // Nobody in the rooms on this instance (a door's accessScanned with no staff connected): nothing to encode.
    const ids = this.recipients(opts);
    if (ids.length === 0) return;
    const flags = opts.flags ?? {};
    const packetOpts: PacketOptions = { preEncoded: true, volatile: flags.volatile, compress: flags.compress };
    packet.nsp = this.nsp.name;
    const encoded = this._encode(packet, packetOpts);
    const frame = packetOpts.wsPreEncodedFrame;
    const direct = frame ? [frame.length === 1 ? frame[0]! : Buffer.concat(frame)] : null;
    const deliver = (s: Socket) => {
      const socket = s as unknown as FanoutSocket;
      if (direct && !flags.volatile && !socket._anyOutgoingListeners?.length && this.sendFrame(socket, direct)) return;
      // socket.io's path (notifies outgoing listeners, queues while the transport is busy)
      socket.notifyOutgoingListeners(packet);
      socket.client.writeToEngine(encoded, packetOpts);
    };
    this.enqueue(opts, deliver, ids);
  }

  /**
   * Server-side disconnection (logout, role removal, deleted event): queued like a broadcast, after the broadcasts
   * sent before it, so that the `error` telling a socket why reaches it before the socket is closed.
   */
  override disconnectSockets(opts: BroadcastOptions, close: boolean): void {
    this.enqueue(opts, (socket) => socket.disconnect(close));
  }

  /** Queues `deliver` for the recipients of `opts` as they are now; the first slice goes at once if nothing waits. */
  private enqueue(opts: BroadcastOptions, deliver: (socket: Socket) => void, ids = this.recipients(opts)): void {
    const rooms = opts.rooms.size > 0 ? new Set(opts.rooms) : null;
    this.deliveries.push({ ids, next: 0, rooms, deliver });
    this.pending += ids.length;
    if (this.pending > FanoutAdapter.backlogWarning) {
      this.warnings.warn(
        { backlog: this.pending, broadcasts: this.deliveries.length },
        'Broadcasts are made faster than they are delivered: sends are queuing',
      );
    }
    if (this.deliveries.length === 1) this.deliverSlice();
  }

  /** Delivers up to `sliceSize` sockets of the pending broadcasts, oldest first; the rest after the event loop turns. */
  private deliverSlice(): void {
    this.scheduled = false;
    const sockets = this.nsp.sockets;
    let budget = FanoutAdapter.sliceSize;
    while (budget > 0 && this.deliveries.length > 0) {
      const d = this.deliveries[0]!;
      while (budget > 0 && d.next < d.ids.length) {
        const id = d.ids[d.next++]!;
        this.pending -= 1;
        const socket = sockets.get(id);
        if (!socket || (d.rooms && !this.inAny(id, d.rooms))) continue;
        budget -= 1;
        try {
          d.deliver(socket);
        } catch {
          // A socket that cannot take it (closing under us) is passed over; the others still get theirs.
        }
      }
      if (d.next >= d.ids.length) this.deliveries.shift();
    }
    if (this.deliveries.length > 0 && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.deliverSlice());
    }
  }

  private inAny(id: string, rooms: Set<Room>): boolean {
    for (const room of rooms) if (this.rooms.get(room)?.has(id)) return true;
    return false;
  }

  /** Writes the frame if the socket's websocket can take it now; false leaves it to engine.io. */
  private sendFrame(socket: FanoutSocket, frame: Buffer[]): boolean {
    const conn = socket.client.conn;
    const transport = conn.transport;
    const sender = transport.socket?._sender;
    if (conn.readyState !== 'open' || transport.name !== 'websocket' || !transport.writable) return false;
    if (conn.writeBuffer.length > 0 || typeof sender?.sendFrame !== 'function') return false;
    sender.sendFrame(frame);
    return true;
  }

  /**
   * The ids of the sockets of the target rooms, each once: a socket already in an earlier room of the list is
   * skipped, which needs no set of every recipient (socket.io's `apply` builds one, 5,000 entries for an event-wide
   * broadcast). With exceptions or no room (everyone), socket.io's `apply`. Reads the rooms only, changes nothing.
   */
  private recipients(opts: BroadcastOptions): string[] {
    const out: string[] = [];
    if (opts.rooms.size === 0 || (opts.except && opts.except.size > 0)) {
      this.apply(opts, (socket) => out.push(socket.id));
      return out;
    }
    const earlier: Set<string>[] = [];
    for (const room of opts.rooms) {
      const ids = this.rooms.get(room);
      if (!ids) continue;
      visiting: for (const id of ids) {
        for (const seen of earlier) if (seen.has(id)) continue visiting;
        out.push(id);
      }
      earlier.push(ids);
    }
    return out;
  }
}
