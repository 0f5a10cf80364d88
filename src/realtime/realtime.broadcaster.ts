import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Server } from 'socket.io';
import type { DataSource } from 'typeorm';
import { STAFF_ROLES, type EventRole } from '../common/auth/event-role';
import { DomainEvents, type DomainEventMap } from '../common/events/domain-events';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { OccupancyPusher } from './occupancy-pusher';
import {
  Rooms,
  type ClientToServerEvents,
  type InterServerEvents,
  type ServerToClientEvents,
  type SocketData,
} from './realtime.events';

/**
 * Who follows every scan of the event as it happens: the people who run it. A controller follows the doors it joined
 * (`joinRoom`): one emit per scan must not go to every controller of a large event (ENGINEERING.md, hot paths).
 */
const SCAN_WATCHERS: EventRole[] = ['organisateur', 'gestionnaire_des_salles'];
/** Who moderates session questions. */
const MODERATOR_ROLES: EventRole[] = ['organisateur', 'gestionnaire_des_salles'];

export type IoServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/**
 * Tells the sockets why, then closes them: here at once, and on the other instances. With Redis, the adapter closes
 * sockets only when its request comes back through Redis, this instance's own included; while Redis is away, a
 * logged-out session would keep its sockets here open. (Through Redis, the request then finds them gone.)
 */
function closeSockets(target: ReturnType<IoServer['in']>, error: { code: string; message: string }): void {
  target.emit('error', error);
  target.local.disconnectSockets(true);
  target.disconnectSockets(true);
}

/** The rooms of an event's venue staff: they see occupancy and attendance. */
export const staffRooms = (eventId: string): string[] => STAFF_ROLES.map((role) => Rooms.role(eventId, role));

/**
 * Maps domain events to socket events and decides who receives each (API.md, "Real time"). Emits go through the
 * socket.io adapter, so with Redis they reach the sockets of every instance; disconnections too.
 */
@Injectable()
export class RealtimeBroadcaster implements OnModuleInit, OnModuleDestroy {
  private server: IoServer | null = null;
  private readonly occupancy: OccupancyPusher;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly events: DomainEvents,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.occupancy = new OccupancyPusher(dataSource, config.occupancyPushIntervalMs, (eventId, message) =>
      this.server?.to([...staffRooms(eventId), Rooms.room(message.room_id)]).emit('roomOccupancy', message),
    );
  }

  attach(server: IoServer): void {
    this.server = server;
  }

  onModuleInit(): void {
    this.unsubscribe.push(
      this.events.on('door.decided', (e) => this.doorDecided(e)),
      this.events.on('session.changed', (e) => this.sessionChanged(e)),
      this.events.on('auth.revoked', (e) => this.authRevoked(e)),
      this.events.on('membership.changed', (e) => this.membershipChanged(e)),
      this.events.on('attendance.marked', (e) => this.attendanceMarked(e)),
      this.events.on('event.deleted', (e) => this.eventDeleted(e)),
      this.events.on('annonce.published', (e) => this.annoncePublished(e)),
      this.events.on('question.changed', (e) => this.questionChanged(e)),
    );
  }

  onModuleDestroy(): void {
    for (const off of this.unsubscribe) off();
    this.occupancy.stop();
  }

  private doorDecided(e: DomainEventMap['door.decided']): void {
    const server = this.server;
    if (!server) return;
    const targets = SCAN_WATCHERS.map((role) => Rooms.role(e.eventId, role));
    if (e.roomId) targets.push(Rooms.room(e.roomId));
    server.to(targets).emit('accessScanned', {
      access_id: e.accessId,
      room_id: e.roomId,
      status: e.status,
      reason_code: e.reasonCode,
      direction: e.direction,
      source: e.source,
      participant: e.participant,
      session_id: e.sessionId,
      scanned_at: e.scannedAt,
      scanned_by: e.scannedBy,
    });
    if (e.status === 'granted') this.occupancy.mark(e.roomId, e.previousRoomId);
  }

  private sessionChanged(e: DomainEventMap['session.changed']): void {
    this.server
      ?.to(Rooms.event(e.eventId))
      .emit('sessionUpdated', { session_id: e.sessionId, action: e.action, session: e.session });
  }

  /** Logout, refresh-token reuse, password change: the session's sockets close, on every instance. */
  private authRevoked(e: DomainEventMap['auth.revoked']): void {
    const server = this.server;
    if (!server) return;
    const target =
      'sessionId' in e
        ? server.in(Rooms.authSession(e.sessionId))
        : e.exceptSessionId
          ? server.in(Rooms.user(e.userId)).except(Rooms.authSession(e.exceptSessionId))
          : server.in(Rooms.user(e.userId));
    closeSockets(target, { code: 'TOKEN_INVALID', message: 'Session has ended' });
  }

  /**
   * A role change or removal closes the member's sockets of that event: their rooms were chosen for the old role.
   * The app reconnects with its token and gets the rooms of the new role (or a refusal).
   */
  private membershipChanged(e: DomainEventMap['membership.changed']): void {
    const target = this.server?.in(Rooms.member(e.eventId, e.userId));
    if (!target) return;
    closeSockets(target, { code: 'MEMBERSHIP_CHANGED', message: 'Your role in this event changed; reconnect' });
  }

  /**
   * Moderators hear of every new question of the event; the sockets in a session follow its questions, moderators
   * with the full view, the audience only with what it may see (a question that left its view is announced removed,
   * without its content).
   */
  private questionChanged(e: DomainEventMap['question.changed']): void {
    const server = this.server;
    if (!server) return;
    const session = Rooms.session(e.sessionId);
    const moderators = Rooms.sessionModerators(e.sessionId);
    if (e.kind === 'asked') {
      server.to(MODERATOR_ROLES.map((role) => Rooms.role(e.eventId, role))).emit('questionAsked', e.moderatorView);
    } else {
      server.to(moderators).emit('questionUpdated', e.moderatorView);
    }
    const removed = { id: (e.moderatorView as { id: string }).id, session: e.sessionId, removed: true };
    if (e.publicView || e.kind !== 'asked') {
      server
        .to(session)
        .except(moderators)
        .emit('questionUpdated', e.publicView ?? removed);
    }
  }

  /** An annonce reaches exactly its audience: the event, a role, or the members it was narrowed to. */
  private annoncePublished(e: DomainEventMap['annonce.published']): void {
    const server = this.server;
    if (!server) return;
    const { audience } = e;
    const rooms =
      audience.kind === 'event'
        ? [Rooms.event(e.eventId)]
        : audience.kind === 'role'
          ? [Rooms.role(e.eventId, audience.role)]
          : audience.userIds.map((userId) => Rooms.member(e.eventId, userId));
    if (rooms.length > 0) server.to(rooms).emit('annonce', e.annonce);
  }

  /** Every membership of a deleted event is gone with it: its sockets close. */
  private eventDeleted(e: DomainEventMap['event.deleted']): void {
    const target = this.server?.in(Rooms.event(e.eventId));
    if (!target) return;
    closeSockets(target, { code: 'MEMBERSHIP_REVOKED', message: 'This event was deleted' });
  }

  private async attendanceMarked(e: DomainEventMap['attendance.marked']): Promise<void> {
    const server = this.server;
    if (!server || !e.created) return;
    const attendance = {
      id: e.attendanceId,
      session_id: e.sessionId,
      participant_id: e.participantId,
      method: e.method,
      attended_at: e.attendedAt,
    };
    server.to(Rooms.member(e.eventId, e.userId)).emit('attendanceMarked', {
      session_id: e.sessionId,
      attendance,
      created: true,
    });
    const [{ present, public: everyone }]: { present: number; public: boolean }[] = await this.dataSource.query(
      `SELECT (SELECT count(*)::int FROM attendances
                WHERE event_id = $1 AND session_id IS NOT DISTINCT FROM $2::uuid) AS present,
              coalesce((SELECT settings -> 'public_attendance' = 'true'::jsonb FROM events WHERE id = $1), false)
                AS public`,
      [e.eventId, e.sessionId],
    );
    const update = {
      session_id: e.sessionId,
      participant_id: e.participantId,
      method: e.method,
      attended_at: e.attendedAt,
      present,
    };
    const staff = staffRooms(e.eventId);
    server.to(staff).emit('attendanceUpdate', update);
    // settings.public_attendance: the rest of the event sees the count move, without who it was.
    if (everyone)
      server
        .to(Rooms.event(e.eventId))
        .except(staff)
        .emit('attendanceUpdate', { ...update, participant_id: null });
  }
}
