import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Server } from 'socket.io';
import type { DataSource } from 'typeorm';
import { STAFF_ROLES, type EventRole } from '../common/auth/event-role';
import { DomainEvents, type DomainEventMap } from '../common/events/domain-events';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { CoalescingPusher } from './coalescing-pusher';
import {
  Rooms,
  type ClientToServerEvents,
  type AttendanceUpdate,
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
  private readonly occupancy: CoalescingPusher;
  /** Attendance counts per event and session (`<event>/<session or empty>`), with the latest mark of each. */
  private readonly attendance: CoalescingPusher;
  private readonly latestMark = new Map<string, Omit<AttendanceUpdate, 'present'>>();
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly events: DomainEvents,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.occupancy = new CoalescingPusher('Occupancy', config.occupancyPushIntervalMs, (ids) =>
      this.pushOccupancy(ids),
    );
    this.attendance = new CoalescingPusher('Attendance', config.occupancyPushIntervalMs, (keys) =>
      this.pushAttendance(keys),
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
    this.attendance.stop();
  }

  private async pushOccupancy(roomIds: string[]): Promise<void> {
    const rows: { id: string; event_id: string; current_participants: number; capacity: number }[] =
      await this.dataSource.query(
        'SELECT id, event_id, current_participants, capacity FROM rooms WHERE id = ANY($1::uuid[])',
        [roomIds],
      );
    for (const r of rows) {
      const message = { room_id: r.id, current_participants: r.current_participants, capacity: r.capacity };
      this.server?.to([...staffRooms(r.event_id), Rooms.room(r.id)]).emit('roomOccupancy', message);
    }
  }

  /**
   * `attendanceUpdate`: the latest mark of each event or session with its count, to staff; with
   * `settings.public_attendance`, to the rest of the event too, without who it was.
   */
  private async pushAttendance(keys: string[]): Promise<void> {
    const marks = keys.flatMap((key) => {
      const mark = this.latestMark.get(key);
      this.latestMark.delete(key);
      return mark ? [{ key, mark, eventId: key.split('/')[0] as string }] : [];
    });
    if (marks.length === 0) return;
    const rows: { present: number; public: boolean }[] = await this.dataSource
      .query(
        `SELECT (SELECT count(*)::int FROM attendances a
                WHERE a.event_id = k.event_id AND a.session_id IS NOT DISTINCT FROM k.session_id) AS present,
              coalesce(e.settings -> 'public_attendance' = 'true'::jsonb, false) AS public
         FROM unnest($1::uuid[], $2::uuid[]) WITH ORDINALITY AS k(event_id, session_id, n)
         LEFT JOIN events e ON e.id = k.event_id
        ORDER BY k.n`,
        [marks.map((m) => m.eventId), marks.map((m) => m.mark.session_id)],
      )
      .catch((error: unknown) => {
        // Retried at the next interval: the marks go back unless a newer one came meanwhile.
        for (const m of marks) if (!this.latestMark.has(m.key)) this.latestMark.set(m.key, m.mark);
        throw error;
      });
    const server = this.server;
    if (!server) return;
    marks.forEach(({ mark, eventId }, i) => {
      const row = rows[i];
      if (!row) return;
      const staff = staffRooms(eventId);
      server.to(staff).emit('attendanceUpdate', { ...mark, present: row.present });
      if (row.public) {
        server
          .to(Rooms.event(eventId))
          .except(staff)
          .emit('attendanceUpdate', { ...mark, participant_id: null, present: row.present });
      }
    });
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

  private attendanceMarked(e: DomainEventMap['attendance.marked']): void {
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
    const key = `${e.eventId}/${e.sessionId ?? ''}`;
    this.latestMark.set(key, {
      session_id: e.sessionId,
      participant_id: e.participantId,
      method: e.method,
      attended_at: e.attendedAt,
    });
    this.attendance.mark(key);
  }
}
