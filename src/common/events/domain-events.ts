import { Global, Injectable, Logger, Module } from '@nestjs/common';
import type { EventRole } from '../auth/event-role';

/** A door decision that changed or reported something (replays of a (device, nonce) are not published again). */
export interface DoorDecided {
  eventId: string;
  roomId: string | null;
  /** The room the badge left by the implied exit, when it moved. */
  previousRoomId: string | null;
  accessId: string;
  status: 'granted' | 'denied';
  reasonCode: string;
  direction: 'in' | 'out';
  source: string;
  participant: { id: string; badge_id: string; full_name: string } | null;
  sessionId: string | null;
  scannedAt: string;
  scannedBy: string;
}

export interface SessionChanged {
  eventId: string;
  sessionId: string;
  action: 'created' | 'updated' | 'deleted' | 'status';
  /** The session as `GET /api/sessions/{id}/` shows it; null once deleted. */
  session: object | null;
}

/** Auth sessions that stopped working: by id, or every session of a user but one. */
export type AuthRevoked = { sessionId: string } | { userId: string; exceptSessionId: string | null };

/** A member's role or activity changed, or the membership is gone. */
export interface MembershipChanged {
  eventId: string;
  userId: string;
  role: EventRole | null;
}

export interface AttendanceMarked {
  eventId: string;
  attendanceId: string;
  sessionId: string | null;
  participantId: string;
  userId: string;
  method: string;
  attendedAt: string;
  /** False when the person was already marked (the first record wins and is answered again). */
  created: boolean;
}

/** An annonce went out; `audience` says to whom (the event, one role, or the people it reached). */
export interface AnnoncePublished {
  eventId: string;
  annonce: object;
  audience: { kind: 'event' } | { kind: 'role'; role: EventRole } | { kind: 'users'; userIds: string[] };
}

/**
 * A question was asked, changed or deleted. `publicView` is what the audience may see (null when they may not:
 * pending or hidden); `moderatorView` carries the name even of anonymous askers.
 */
export interface QuestionChanged {
  eventId: string;
  sessionId: string;
  kind: 'asked' | 'updated' | 'deleted';
  moderatorView: object;
  publicView: object | null;
}

export interface DomainEventMap {
  'question.changed': QuestionChanged;
  'annonce.published': AnnoncePublished;
  'event.deleted': { eventId: string };
  'door.decided': DoorDecided;
  'session.changed': SessionChanged;
  'auth.revoked': AuthRevoked;
  'membership.changed': MembershipChanged;
  'attendance.marked': AttendanceMarked;
}

export type DomainEventName = keyof DomainEventMap;
type Handler<K extends DomainEventName> = (payload: DomainEventMap[K]) => void | Promise<void>;

/**
 * The in-process domain event bus: services say what happened after it is committed; the real-time gateway (and
 * later other consumers) decide who hears about it. A failing handler is logged, never propagated: a scan's answer
 * does not depend on a socket broadcast.
 */
@Injectable()
export class DomainEvents {
  private readonly logger = new Logger(DomainEvents.name);
  private readonly handlers = new Map<DomainEventName, { handler: Handler<DomainEventName>; immediate: boolean }[]>();

  /**
   * `immediate` handlers run at once and `publish` resolves when they are done (the session cache's evictions, which
   * must be everywhere before the change is answered); the others run on the next turn of the event loop.
   */
  on<K extends DomainEventName>(name: K, handler: Handler<K>, opts: { immediate?: boolean } = {}): () => void {
    const list = this.handlers.get(name) ?? [];
    const entry = { handler: handler as Handler<DomainEventName>, immediate: opts.immediate ?? false };
    list.push(entry);
    this.handlers.set(name, list);
    return () => {
      const i = list.indexOf(entry);
      if (i >= 0) list.splice(i, 1);
    };
  }

  /** Never rejects: a failing handler is logged. Await it where the immediate handlers must be done first. */
  publish<K extends DomainEventName>(name: K, payload: DomainEventMap[K]): Promise<void> {
    const list = this.handlers.get(name) ?? [];
    const immediate: Promise<void>[] = [];
    for (const { handler, immediate: now } of [...list]) {
      if (now) {
        immediate.push(this.run(name, handler, payload));
        continue;
      }
      // After the current I/O callbacks: the HTTP answer that caused the event is written before a broadcast to
      // thousands of sockets runs.
      setImmediate(() => void this.run(name, handler, payload));
    }
    return Promise.all(immediate).then(() => undefined);
  }

  private async run<K extends DomainEventName>(name: K, handler: Handler<K>, payload: DomainEventMap[K]) {
    try {
      await handler(payload);
    } catch (error) {
      this.failed(name, error);
    }
  }

  private failed(name: string, error: unknown): void {
    this.logger.error({ err: error, event: name }, 'A domain event handler failed');
  }
}

@Global()
@Module({ providers: [DomainEvents], exports: [DomainEvents] })
export class DomainEventsModule {}
