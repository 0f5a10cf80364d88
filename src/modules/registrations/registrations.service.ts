import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyRequest } from 'fastify';
import { DataSource, Not, type EntityManager } from 'typeorm';
import { KeyedLimiter, LimiterFullError } from '../../common/concurrency/keyed-limiter';
import { DomainEvents } from '../../common/events/domain-events';
import { AppException, conflict, ErrorCode, notFound } from '../../common/errors/app.exception';
import { APP_CONFIG } from '../../config/config.module';
import type { AppConfig } from '../../config/app-config';
import { escapeLike, type Page, pageWindow, toPage } from '../../common/pagination/pagination';
import { AssignmentsService } from '../assignments/assignments.service';
import { fullName } from '../users/users.service';
import type { RegistrationDto, RegistrationListQueryDto, RegistrationStateDto } from './dto/registration.dto';
import { EventRegistration, type RegistrationStatus } from './entities/event-registration.entity';
import { RegistrationErrors } from './registrations.errors';

/**
 * Locks the event row for the rest of the transaction and draws the next waiting-list number: every registration
 * and cancellation of one event queues on that row, so seats, promotions and positions are decided one at a time.
 * `$1` event.
 */
const LOCK_AND_DRAW = `WITH e AS (
    UPDATE events SET registration_seq = registration_seq + 1 WHERE id = $1
    RETURNING registration_seq AS seq, registration_open AND NOT is_cancelled AND end_date > now() AS open)
  SELECT seq, open FROM e`;
/** Same lock for a cancellation, without drawing a number (NO KEY: inserts referencing the event are not blocked). */
const LOCK = 'SELECT id FROM events WHERE id = $1 FOR NO KEY UPDATE';
/**
 * Takes one confirmed seat if one is free: a conditional UPDATE (never count-then-insert), backed by the CHECK
 * `chk_events_registered_count`. Capacity null is unlimited. `$1` event.
 */
export const TAKE_REGISTRATION_SEAT = `UPDATE events SET registered_count = registered_count + 1
  WHERE id = $1 AND (capacity IS NULL OR registered_count < capacity) RETURNING id`;
const FREE_REGISTRATION_SEAT = `UPDATE events SET registered_count = registered_count - 1
  WHERE id = $1 AND registered_count > 0`;
const POSITION = `SELECT count(*)::int AS n FROM event_registrations
  WHERE event_id = $1 AND status = 'waitlisted' AND queue_number <= $2`;

const ORDER_COLUMNS: Record<string, string> = { created_at: 'r.created_at', updated_at: 'r.updated_at' };

interface ListRow {
  id: string;
  user_id: string;
  email: string;
  first_name: string;
  last_name: string;
  status: RegistrationStatus;
  position: number | null;
  created_at: Date;
  updated_at: Date;
}

/**
 * Registrations and cancellations of one event running at once on this instance. They queue on the event row anyway;
 * beyond a few, waiting in PostgreSQL would only hold pooled connections (a rush of 200 took all 20 and other
 * requests failed with 503). More than one, so that the row lock keeps doing the work (and the concurrency tests
 * still test it).
 */
const PER_EVENT = 4;
/** Seconds a client refused by a full queue is told to wait (a few hundred registrations are decided in that time). */
const QUEUE_FULL_RETRY_AFTER_SEC = 2;

/** Self-registration to an event: a seat when one is free, else a place in the waiting list. */
@Injectable()
export class RegistrationsService {
  private readonly limiter: KeyedLimiter;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly assignments: AssignmentsService,
    private readonly events: DomainEvents,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.limiter = new KeyedLimiter(PER_EVENT, config.registrationQueueMax);
    // An organisateur removing a registrant from the event ends their registration too, and frees the seat.
    assignments.onMembershipRemoved((manager, removed) => this.release(manager, removed.eventId, removed.userId));
  }

  /**
   * Registers the caller. `created` is false when they were already registered (confirmed or waitlisted): the same
   * answer again, even once registration has closed. A confirmed seat makes the caller a participant (with a badge)
   * in the same transaction.
   */
  async register(eventId: string, userId: string): Promise<{ created: boolean; state: RegistrationStateDto }> {
    const existing = await this.state(this.dataSource.manager, eventId, userId);
    if (existing) return { created: false, state: existing };
    return this.perEvent(eventId, () => this.registerLocked(eventId, userId));
  }

  /**
   * Runs a registration or cancellation of `eventId` in its turn (PER_EVENT at once on this instance). A rush that
   * would wait longer than clients do (more than REGISTRATION_QUEUE_MAX waiting) is refused at once: 503 UNAVAILABLE
   * with Retry-After, nothing changed.
   */
  private async perEvent<T>(eventId: string, task: () => Promise<T>): Promise<T> {
    try {
      return await this.limiter.run(eventId, task);
    } catch (error) {
      if (!(error instanceof LimiterFullError)) throw error;
      throw new AppException(
        HttpStatus.SERVICE_UNAVAILABLE,
        ErrorCode.UNAVAILABLE,
        'Too many registrations for this event at once, retry shortly',
        undefined,
        { 'Retry-After': String(QUEUE_FULL_RETRY_AFTER_SEC) },
      );
    }
  }

  private registerLocked(eventId: string, userId: string): Promise<{ created: boolean; state: RegistrationStateDto }> {
    return this.dataSource.transaction(async (manager) => {
      const locked: { seq: number; open: boolean }[] = await manager.query(LOCK_AND_DRAW, [eventId]);
      const event = locked[0];
      if (!event) throw notFound('Event');
      // Re-read under the lock: a concurrent request of the same user may have registered meanwhile.
      const again = await this.state(manager, eventId, userId);
      if (again) return { created: false, state: again };
      if (!event.open) {
        throw conflict(RegistrationErrors.REGISTRATION_CLOSED, 'This event does not take registrations');
      }
      if (await this.assignments.membership(eventId, userId, manager)) {
        throw conflict(RegistrationErrors.ALREADY_MEMBER, 'You already have a role in this event');
      }
      const seat: unknown[] = await manager.query(`WITH seat AS (${TAKE_REGISTRATION_SEAT}) SELECT id FROM seat`, [
        eventId,
      ]);
      const status: RegistrationStatus = seat.length > 0 ? 'confirmed' : 'waitlisted';
      // A cancelled registration is reused: the user goes to the back of the waiting list.
      await manager.query(
        `INSERT INTO event_registrations (event_id, user_id, status, queue_number) VALUES ($1, $2, $3, $4)
         ON CONFLICT (event_id, user_id) DO UPDATE
           SET status = excluded.status, queue_number = excluded.queue_number, updated_at = now()`,
        [eventId, userId, status, event.seq],
      );
      if (status === 'confirmed') await this.assignments.assign(eventId, userId, 'participant', userId, manager);
      return { created: true, state: await this.positioned(manager, eventId, status, event.seq) };
    });
  }

  /**
   * Cancels the caller's registration. A confirmed seat goes to the first of the waiting list (confirmed, participant,
   * badge) or, with nobody waiting, back to the event; the caller's participant role is removed with its badge (a role
   * an organisateur changed since, e.g. to organisateur, is kept).
   */
  async cancel(eventId: string, userId: string): Promise<void> {
    const roleRemoved = await this.perEvent(eventId, () =>
      this.dataSource.transaction(async (manager) => {
        const locked: unknown[] = await manager.query(LOCK, [eventId]);
        if (locked.length === 0) throw notFound('Event');
        const current = await manager.findOneBy(EventRegistration, { eventId, userId, status: Not('cancelled') });
        if (!current) throw notFound('Registration');
        await this.end(manager, current);
        return current.status === 'confirmed' && this.assignments.removeRole(manager, eventId, userId, 'participant');
      }),
    );
    // After the commit: live connections and cached sessions of the canceller see the role gone.
    if (roleRemoved) await this.events.publish('membership.changed', { eventId, userId, role: null });
  }

  /** Ends the registration of someone removed from the event; a confirmed seat goes to the waiting list. */
  private async release(manager: EntityManager, eventId: string, userId: string): Promise<void> {
    await manager.query(LOCK, [eventId]);
    const current = await manager.findOneBy(EventRegistration, { eventId, userId, status: Not('cancelled') });
    if (current) await this.end(manager, current);
  }

  /** Cancels a registration; its confirmed seat goes to the first person waiting. The event row is locked. */
  private async end(manager: EntityManager, current: EventRegistration): Promise<void> {
    await manager.update(EventRegistration, { id: current.id }, { status: 'cancelled', updatedAt: new Date() });
    if (current.status === 'confirmed') await this.promoteFirst(manager, current.eventId);
  }

  /** The caller's registration, or 404 (also when cancelled). */
  async own(eventId: string, userId: string): Promise<RegistrationStateDto> {
    const state = await this.state(this.dataSource.manager, eventId, userId);
    if (!state) throw notFound('Registration');
    return state;
  }

  /** Registrations of the event: confirmed first, then the waiting list in order, then cancelled. */
  async list(
    eventId: string,
    query: RegistrationListQueryDto,
    request: FastifyRequest,
  ): Promise<Page<RegistrationDto>> {
    const where = ['r.event_id = $1'];
    const params: unknown[] = [eventId];
    if (query.status) {
      params.push(query.status);
      where.push(`r.status = $${params.length}`);
    }
    if (query.search) {
      params.push(`%${escapeLike(query.search)}%`);
      where.push(`(u.email ILIKE $${params.length} OR (u.first_name || ' ' || u.last_name) ILIKE $${params.length})`);
    }
    const from = `FROM event_registrations r JOIN users u ON u.id = r.user_id WHERE ${where.join(' AND ')}`;
    const desc = query.ordering?.startsWith('-') ?? false;
    const column = query.ordering ? ORDER_COLUMNS[query.ordering.replace(/^-/, '')] : undefined;
    const order = column
      ? `${column} ${desc ? 'DESC' : 'ASC'}, r.id`
      : `CASE r.status WHEN 'confirmed' THEN 0 WHEN 'waitlisted' THEN 1 ELSE 2 END, r.queue_number, r.id`;
    const window = pageWindow(query);
    const counted: { n: number }[] = await this.dataSource.query(`SELECT count(*)::int AS n ${from}`, params);
    // The waiting-list position counts every waitlisted row of the event, whatever the search.
    const rows: ListRow[] = await this.dataSource.query(
      `SELECT r.id, r.user_id, u.email, u.first_name, u.last_name, r.status, r.created_at, r.updated_at,
              CASE WHEN r.status = 'waitlisted' THEN (
                SELECT count(*)::int FROM event_registrations w
                 WHERE w.event_id = r.event_id AND w.status = 'waitlisted' AND w.queue_number <= r.queue_number)
              END AS position
       ${from} ORDER BY ${order} LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, window.pageSize, window.offset],
    );
    return toPage(request, window, counted[0]?.n ?? 0, rows.map(toDto));
  }

  // ---- helpers ----------------------------------------------------------------------------------------------------

  /**
   * After the event's capacity grew or became unlimited, in the transaction that changed it (which holds the event
   * row): the free seats go to the waiting list, first come first served. Returns how many were confirmed.
   */
  async fillFreeSeats(manager: EntityManager, eventId: string): Promise<number> {
    await manager.query(LOCK, [eventId]);
    // A raw UPDATE answers [rows, count].
    const [promoted]: [{ user_id: string }[], number] = await manager.query(
      `UPDATE event_registrations SET status = 'confirmed', updated_at = now()
        WHERE id IN (SELECT r.id FROM event_registrations r
                      WHERE r.event_id = $1 AND r.status = 'waitlisted'
                      ORDER BY r.queue_number
                      LIMIT (SELECT CASE WHEN capacity IS NULL THEN NULL
                                         ELSE greatest(capacity - registered_count, 0) END
                               FROM events WHERE id = $1))
        RETURNING user_id`,
      [eventId],
    );
    if (promoted.length === 0) return 0;
    // The CHECK against capacity stays the last word: a miscount here fails the whole change.
    await manager.query('UPDATE events SET registered_count = registered_count + $2 WHERE id = $1', [
      eventId,
      promoted.length,
    ]);
    for (const { user_id } of promoted) await this.admit(manager, eventId, user_id);
    return promoted.length;
  }

  /** Confirms the first of the waiting list on the seat just freed, or gives the seat back to the event. */
  private async promoteFirst(manager: EntityManager, eventId: string): Promise<void> {
    const next = await manager.findOne(EventRegistration, {
      where: { eventId, status: 'waitlisted' },
      order: { queueNumber: 'ASC' },
    });
    if (!next) {
      await manager.query(FREE_REGISTRATION_SEAT, [eventId]);
      return;
    }
    await manager.update(EventRegistration, { id: next.id }, { status: 'confirmed', updatedAt: new Date() });
    await this.admit(manager, eventId, next.userId);
  }

  /** A newly confirmed registrant becomes a participant (with a badge); a role an organisateur gave meanwhile stays. */
  private async admit(manager: EntityManager, eventId: string, userId: string): Promise<void> {
    if (!(await this.assignments.membership(eventId, userId, manager))) {
      await this.assignments.assign(eventId, userId, 'participant', null, manager);
    }
  }

  private async state(manager: EntityManager, eventId: string, userId: string): Promise<RegistrationStateDto | null> {
    const r = await manager.findOneBy(EventRegistration, { eventId, userId, status: Not('cancelled') });
    return r ? this.positioned(manager, eventId, r.status, r.queueNumber) : null;
  }

  private async positioned(
    manager: EntityManager,
    eventId: string,
    status: RegistrationStatus,
    queueNumber: number,
  ): Promise<RegistrationStateDto> {
    if (status !== 'waitlisted') return { status, position: null };
    const rows: { n: number }[] = await manager.query(POSITION, [eventId, queueNumber]);
    return { status, position: rows[0]?.n ?? 1 };
  }
}

function toDto(r: ListRow): RegistrationDto {
  return {
    id: r.id,
    user: r.user_id,
    user_name: fullName({ firstName: r.first_name, lastName: r.last_name }),
    email: r.email,
    status: r.status,
    position: r.position,
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}
