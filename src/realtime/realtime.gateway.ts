import { Inject, Logger } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  type OnGatewayConnection,
  type OnGatewayInit,
} from '@nestjs/websockets';
import type { Socket } from 'socket.io';
import type { AuthContext } from '../common/auth/auth-context';
import { STAFF_ROLES, type EventRole } from '../common/auth/event-role';
import { AppException, ErrorCode, forbidden, unauthorized } from '../common/errors/app.exception';
import { mapError } from '../common/errors/error-mapper';
import { jsonDepth, MAX_JSON_DEPTH } from '../common/http/json-body.parser';
import { createValidationPipe } from '../common/http/validation.pipe';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { AttendanceService } from '../modules/attendance/attendance.service';
import { AuthGuard } from '../modules/auth/auth.guard';
import { SessionsService as AuthSessions } from '../modules/auth/sessions.service';
import { RoomsService } from '../modules/rooms/rooms.service';
import { SessionsService } from '../modules/sessions/sessions.service';
import { UsersService } from '../modules/users/users.service';
import { RealtimeBroadcaster, type IoServer } from './realtime.broadcaster';
import { MarkAttendanceDto, RoomRefDto, SessionRefDto, SessionUpdateDto } from './realtime.dto';
import {
  Rooms,
  type Ack,
  type ClientToServerEvents,
  type InterServerEvents,
  type ServerToClientEvents,
  type SocketData,
  type SocketError,
} from './realtime.events';

type AppSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
type Payload = Record<string, unknown> | undefined;

const MODERATORS: EventRole[] = ['organisateur', 'gestionnaire_des_salles'];
/** Refused messages in a row after which a socket that keeps flooding is closed. */
const FLOOD_LIMIT = 50;

/** The token of a handshake: `auth: {token}` (browsers, apps) or an `Authorization: Bearer` header (other clients). */
function tokenOf(socket: AppSocket): string | null {
  const auth = socket.handshake.auth as { token?: unknown } | undefined;
  if (typeof auth?.token === 'string' && auth.token !== '') return auth.token.replace(/^Bearer\s+/i, '');
  const header = socket.handshake.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1] ?? null;
}

/** The error of an acknowledgement, with the codes of the HTTP API. */
function socketError(error: unknown, log: Logger): SocketError {
  const mapped = mapError(error, '');
  if (mapped.unexpected) log.error({ err: error }, 'Socket message failed');
  const out: SocketError = { code: mapped.body.code, message: mapped.body.detail };
  if (mapped.body.errors) out.errors = mapped.body.errors;
  if (error instanceof AppException && error.extra) Object.assign(out, error.extra);
  return out;
}

/**
 * The socket.io gateway (API.md, "Real time"). The handshake authenticates like the HTTP guard; the server alone
 * puts sockets into rooms; every client event checks the caller's session and role again, answers through its
 * acknowledgement, and delegates to the same services as the HTTP routes. Messages per socket are rate limited.
 */
@WebSocketGateway()
export class RealtimeGateway implements OnGatewayInit, OnGatewayConnection {
  private readonly log = new Logger('Realtime');
  private readonly pipe = createValidationPipe();

  constructor(
    private readonly guard: AuthGuard,
    private readonly authSessions: AuthSessions,
    private readonly sessions: SessionsService,
    private readonly rooms: RoomsService,
    private readonly users: UsersService,
    private readonly attendance: AttendanceService,
    private readonly broadcaster: RealtimeBroadcaster,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  afterInit(server: IoServer): void {
    this.broadcaster.attach(server);
    server.use((socket, next) => {
      this.handshake(socket).then(
        () => next(),
        (error: unknown) => {
          const { code, message } = socketError(error, this.log);
          next(Object.assign(new Error(code), { data: { code, message } }));
        },
      );
    });
  }

  private async handshake(socket: AppSocket): Promise<void> {
    const token = tokenOf(socket);
    if (!token) throw unauthorized(ErrorCode.AUTH_REQUIRED, 'Authentication required');
    const claims = this.authSessions.verifyAccess(token);
    const auth = await this.guard.current(claims);
    socket.data = { auth, claims: { sub: claims.sub, sid: claims.sid, event_id: claims.event_id } };
    // Checked once: every later message re-checks the claims, never the token, so the socket does not keep it
    // (a bearer secret, 400 bytes a socket).
    delete (socket.handshake.auth as { token?: unknown }).token;
  }

  /** Every connection is a new one, authenticated by the handshake (no state recovery: see the adapter). */
  async handleConnection(socket: AppSocket): Promise<void> {
    socket.use(this.rateLimiter(socket));
    socket.on('disconnecting', () => {
      // Only a socket that joined a session has its name loaded (joinSession did): no query here.
      for (const room of socket.rooms) {
        if (!room.startsWith('session:') || room.endsWith(':mod')) continue;
        const user = { id: socket.data.auth.userId, name: socket.data.name ?? '' };
        socket.to(room).emit('userLeft', { session_id: room.slice(8), user });
      }
    });
    await socket.join(this.baseRooms(socket.data));
  }

  private baseRooms({ auth, claims }: SocketData): string[] {
    const rooms = [Rooms.user(auth.userId), Rooms.authSession(claims.sid)];
    if (auth.eventId) {
      rooms.push(Rooms.event(auth.eventId), Rooms.member(auth.eventId, auth.userId));
      if (auth.role) rooms.push(Rooms.role(auth.eventId, auth.role));
    }
    return rooms;
  }

  /** A token bucket per socket: a steady rate with bursts of twice that; a flood is disconnected. */
  private rateLimiter(socket: AppSocket): Parameters<AppSocket['use']>[0] {
    const rate = this.config.socketMessagesPerSec;
    const capacity = rate * 2;
    let tokens = capacity;
    let last = Date.now();
    let refusedInRow = 0;
    return (packet, next) => {
      const now = Date.now();
      tokens = Math.min(capacity, tokens + ((now - last) / 1000) * rate);
      last = now;
      if (tokens >= 1) {
        tokens -= 1;
        refusedInRow = 0;
        return next();
      }
      const error = { code: ErrorCode.RATE_LIMITED, message: 'Too many messages; slow down' };
      const ack = packet[packet.length - 1];
      if (typeof ack === 'function') (ack as (a: Ack) => void)({ ok: false, error });
      else socket.emit('error', error);
      refusedInRow += 1;
      if (refusedInRow >= FLOOD_LIMIT) socket.disconnect(true);
    };
  }

  /**
   * The caller as the database says now: a revoked session or a removed membership closes the socket; a role that
   * changed since the handshake too (its rooms were chosen for the old role).
   */
  private async caller(socket: AppSocket, roles?: readonly EventRole[]): Promise<AuthContext & { eventId: string }> {
    let auth: AuthContext;
    try {
      auth = await this.guard.current(socket.data.claims);
    } catch (error) {
      if (error instanceof AppException && error.getStatus() === 401) setImmediate(() => socket.disconnect(true));
      throw error;
    }
    if (auth.role !== socket.data.auth.role) {
      setImmediate(() => socket.disconnect(true));
      throw new AppException(401, 'MEMBERSHIP_CHANGED', 'Your role in this event changed; reconnect');
    }
    if (!auth.eventId) throw new AppException(403, ErrorCode.EVENT_REQUIRED, 'Select an event first');
    if (roles && (!auth.role || !roles.includes(auth.role))) throw forbidden();
    return auth as AuthContext & { eventId: string };
  }

  private async answer<T>(work: () => Promise<T>): Promise<Ack<T>> {
    try {
      const data = await work();
      return data === undefined ? { ok: true } : { ok: true, data };
    } catch (error) {
      return { ok: false, error: socketError(error, this.log) };
    }
  }

  private async valid<T extends object>(type: new () => T, payload: Payload): Promise<T> {
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
      throw new AppException(400, ErrorCode.VALIDATION_FAILED, 'The payload must be an object');
    }
    // As for HTTP bodies: deeper nesting only exists to exhaust the validation pipe's recursion (a stack overflow).
    if (jsonDepth(payload) > MAX_JSON_DEPTH) {
      throw new AppException(
        400,
        ErrorCode.VALIDATION_FAILED,
        `The payload is nested deeper than ${MAX_JSON_DEPTH} levels`,
      );
    }
    return (await this.pipe.transform(payload, { type: 'body', metatype: type })) as T;
  }

  /** Who joined or left, for the others in the session; the name is read once, when first needed. */
  private async presence(socket: AppSocket, sessionId: string) {
    if (socket.data.name === undefined) {
      const user = await this.users.findById(socket.data.auth.userId);
      socket.data.name = user ? `${user.firstName} ${user.lastName}`.trim() : '';
    }
    return { session_id: sessionId, user: { id: socket.data.auth.userId, name: socket.data.name } };
  }

  @SubscribeMessage('joinSession')
  joinSession(@ConnectedSocket() socket: AppSocket, @MessageBody() payload: Payload) {
    return this.answer(async () => {
      const { session_id } = await this.valid(SessionRefDto, payload);
      const { eventId, role } = await this.caller(socket);
      await this.sessions.get(eventId, session_id);
      const room = Rooms.session(session_id);
      if (!socket.rooms.has(room)) {
        await socket.join(MODERATORS.includes(role as EventRole) ? [room, Rooms.sessionModerators(session_id)] : room);
        socket.to(room).emit('userJoined', await this.presence(socket, session_id));
      }
      return { session_id };
    });
  }

  @SubscribeMessage('leaveSession')
  leaveSession(@ConnectedSocket() socket: AppSocket, @MessageBody() payload: Payload) {
    return this.answer(async () => {
      const { session_id } = await this.valid(SessionRefDto, payload);
      await this.caller(socket);
      const room = Rooms.session(session_id);
      if (socket.rooms.has(room)) {
        await socket.leave(room);
        await socket.leave(Rooms.sessionModerators(session_id));
        socket.to(room).emit('userLeft', await this.presence(socket, session_id));
      }
      return { session_id };
    });
  }

  @SubscribeMessage('joinRoom')
  joinRoom(@ConnectedSocket() socket: AppSocket, @MessageBody() payload: Payload) {
    return this.answer(async () => {
      const { room_id } = await this.valid(RoomRefDto, payload);
      const { eventId } = await this.caller(socket, STAFF_ROLES);
      const room = await this.rooms.getInEvent(eventId, room_id);
      await socket.join(Rooms.room(room_id));
      return { room_id, current_participants: room.currentParticipants, capacity: room.capacity };
    });
  }

  @SubscribeMessage('markAttendance')
  markAttendance(@ConnectedSocket() socket: AppSocket, @MessageBody() payload: Payload) {
    return this.answer(async () => {
      const dto = await this.valid(MarkAttendanceDto, payload);
      const { eventId, userId } = await this.caller(socket);
      const { attendance, created } = await this.attendance.markSelf(eventId, userId, {
        sessionId: dto.session_id,
        code: dto.code,
        latitude: dto.latitude,
        longitude: dto.longitude,
      });
      return { session_id: dto.session_id, attendance, created };
    });
  }

  @SubscribeMessage('getAttendanceStats')
  getAttendanceStats(@ConnectedSocket() socket: AppSocket, @MessageBody() payload: Payload) {
    return this.answer(async () => {
      const { session_id } = await this.valid(SessionRefDto, payload);
      const { eventId } = await this.caller(socket, STAFF_ROLES);
      const stats = await this.attendance.sessionStats(eventId, session_id);
      socket.emit('attendanceStats', stats);
      return stats;
    });
  }

  /** The fields of PATCH /api/sessions/{id}/ (organisateur) and/or a status action (organisateur, gestionnaire). */
  @SubscribeMessage('sessionUpdate')
  sessionUpdate(@ConnectedSocket() socket: AppSocket, @MessageBody() payload: Payload) {
    return this.answer(async () => {
      const { session_id, action, ...fields } = await this.valid(SessionUpdateDto, payload);
      const caller = await this.caller(socket, MODERATORS);
      const changes = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
      if (Object.keys(changes).length > 0) {
        if (caller.role !== 'organisateur') {
          throw forbidden('Only organisateurs change session details; gestionnaires change the status');
        }
        // Fields, and the action with them, in one transaction: a refused action leaves the fields unchanged too.
        return this.sessions.update(caller.eventId, session_id, changes, action);
      }
      if (!action) throw new AppException(400, ErrorCode.VALIDATION_FAILED, 'Send fields to change or an action');
      return this.sessions.transition(caller.eventId, session_id, action, caller);
    });
  }
}
