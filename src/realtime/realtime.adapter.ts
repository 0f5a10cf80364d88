import { Logger, type INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import type { MessageMappingProperties } from '@nestjs/websockets';
import type { Observable } from 'rxjs';
import type { Server, ServerOptions, Socket } from 'socket.io';
import { Decoder, Encoder } from 'socket.io-parser';
import { closeRedis } from '../common/redis';
import { ThrottledWarning } from '../common/throttled-warning';
import type { AppConfig } from '../config/app-config';
import { batchPublishes } from './batched-publish';
import { FanoutAdapter } from './fanout-adapter';
import { SlowConsumerSweeper } from './slow-consumers';

/** Largest message a client may send; socket.io closes the connection of one that sends more. */
export const MAX_SOCKET_MESSAGE_BYTES = 64 * 1024;

/**
 * socket.io's parser, refusing binary attachments. No client event takes binary, and a message's attachments are
 * frames of their own (up to 10 of MAX_SOCKET_MESSAGE_BYTES each), so they would get a message past the limit. A
 * packet announcing attachments is a parse error: socket.io closes that connection, as for an oversized message.
 */
class JsonOnlyDecoder extends Decoder {
  constructor() {
    super({ maxAttachments: 0 });
  }
}

/** Replaces `client[method]` with one whose failure is told to `onError` and answers 0 instead of rejecting. */
function caught(client: Redis, method: 'punsubscribe' | 'unsubscribe', onError: (e: Error) => void): void {
  const original = (client[method] as (...args: unknown[]) => Promise<unknown>).bind(client);
  Object.assign(client, {
    [method]: (...args: unknown[]) =>
      original(...args).catch((error: Error) => {
        onError(error);
        return 0;
      }),
  });
}

/**
 * socket.io on the HTTP server of the app, with the options of API.md ("Real time"). With `REDIS_URL` set, the Redis
 * adapter relays broadcasts and server-side room operations (`disconnectSockets`) between instances, so several
 * instances behind a load balancer behave as one; without it, the in-memory adapter (one instance).
 */
export class RealtimeIoAdapter extends IoAdapter {
  private readonly log = new Logger('Realtime');
  private readonly warnings = new ThrottledWarning(this.log);
  private redis: { pub: Redis; sub: Redis } | null = null;
  private sweeper: SlowConsumerSweeper | null = null;

  constructor(
    app: INestApplicationContext,
    private readonly config: AppConfig,
  ) {
    super(app);
  }

  /** Connects to Redis before the gateway is created (the adapter needs both clients ready). */
  async connect(): Promise<void> {
    if (!this.config.redisUrl) return;
    // While Redis is away, a publish fails at once (no offline queue) and is dropped: broadcasts and disconnections
    // then reach this instance's sockets only, until the clients reconnect (the subscriber resubscribes by itself).
    const pub = new Redis(this.config.redisUrl, { lazyConnect: true, enableOfflineQueue: false });
    const sub = new Redis(this.config.redisUrl, { lazyConnect: true });
    for (const client of [pub, sub]) {
      client.on('error', (error: Error) => this.warn('Redis connection problem', error));
    }
    await Promise.all([pub.connect(), sub.connect()]);
    // Publishes go in one pipeline per turn of the event loop, and never reject: the adapter does not handle a failed
    // publish, and unhandled, the rejection would stop the process.
    batchPublishes(pub, (error) =>
      this.warn('Redis is away: this broadcast reached the sockets of this instance only', error),
    );
    // Nor the unsubscriptions it sends when it closes: at shutdown while Redis is away they fail with "Connection is
    // closed" once the client is disconnected. Nothing is left to undo then.
    caught(sub, 'punsubscribe', () => undefined);
    caught(sub, 'unsubscribe', () => undefined);
    this.redis = { pub, sub };
  }

  /** At most one warning per 10 s: an outage would otherwise log once per broadcast. */
  private warn(message: string, error: Error): void {
    this.warnings.warn({ err: error.message }, message);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const server = super.createIOServer(port, {
      ...options,
      path: '/socket.io',
      serveClient: false,
      maxHttpBufferSize: MAX_SOCKET_MESSAGE_BYTES,
      parser: { Encoder, Decoder: JsonOnlyDecoder },
      cors: this.config.corsOrigins.length > 0 ? { origin: this.config.corsOrigins } : undefined,
      // No connection state recovery: socket.io replays the missed packets of a recovered socket before any
      // middleware runs, so a user logged out or demoted while away would receive what was sent to their old rooms.
      // A client that reconnects is authenticated afresh, gets the rooms of its role now, and resynchronises through
      // the API (the Redis adapter could not recover sessions across instances anyway).
    } as ServerOptions);
    // One instance: the in-memory adapter with a leaner broadcast (fanout-adapter.ts). With Redis, the Redis adapter
    // (its local delivery is socket.io's own).
    server.adapter(
      this.redis
        ? createAdapter(this.redis.pub, this.redis.sub, { key: `${this.config.redisPrefix}:socket.io` })
        : (FanoutAdapter as unknown as NonNullable<ServerOptions['adapter']>),
    );
    this.sweeper?.stop();
    this.sweeper = new SlowConsumerSweeper(server, this.config.socketMaxUnsentBytes);
    this.sweeper.start();
    return server;
  }

  /**
   * One plain listener per client event. Nest's own binding builds an RxJS pipeline per handler and socket (120,000
   * subscriber objects for 5,000 sockets, 44 kB a socket in bench/fanout); here the observable exists only while a
   * message is handled. Same contract: the handler's result is the acknowledgement, or an emit when it names an event.
   */
  override bindMessageHandlers(
    socket: Socket,
    handlers: MessageMappingProperties[],
    transform: (data: unknown) => Observable<unknown>,
  ): void {
    for (const { message, callback, isAckHandledManually } of handlers) {
      socket.on(String(message), (...args: unknown[]) => {
        // As Nest's own binding (fromEvent): one argument is the payload itself, an array only when there are several.
        const { data, ack } = this.mapPayload(args.length === 1 ? args[0] : args);
        let result: Observable<unknown>;
        try {
          result = transform(callback(data, ack));
        } catch (error) {
          this.log.error({ err: error }, 'Socket handler failed');
          return;
        }
        result.subscribe({
          next: (response) => {
            if (response === undefined || response === null || socket.disconnected) return;
            const named = response as { event?: string; data?: unknown };
            if (named.event) socket.emit(named.event, named.data);
            else if (!isAckHandledManually && typeof ack === 'function') (ack as (r: unknown) => void)(response);
          },
          error: (error: unknown) => this.log.error({ err: error }, 'Socket handler failed'),
        });
      });
    }
  }

  override async dispose(): Promise<void> {
    this.sweeper?.stop();
    await super.dispose();
    const redis = this.redis;
    this.redis = null;
    if (redis) await Promise.all([closeRedis(redis.pub), closeRedis(redis.sub)]);
  }
}
