import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import type { FastifyRequest } from 'fastify';
import { DataSource, type Repository, type SelectQueryBuilder } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { idsNotInEvent } from '../../database/event-scoped';
import type { AuthContext } from '../../common/auth/auth-context';
import { assertEventFilter } from '../../common/auth/event-scope';
import { AppException, conflict, forbidden, notFound, validationFailed } from '../../common/errors/app.exception';
import { constraintViolation, retryOnDeadlock } from '../../common/errors/database-errors';
import { DomainEvents } from '../../common/events/domain-events';
import { escapeLike, orderingOf, type Page, pageOf } from '../../common/pagination/pagination';
import { RoomAssignmentsService } from '../room-assignments/room-assignments.service';
import type { Room } from '../rooms/entities/room.entity';
import { RoomsService } from '../rooms/rooms.service';
import {
  SessionDto,
  type CreateSessionDto,
  type RoomSessionListQueryDto,
  type SessionListQueryDto,
  type UpdateSessionDto,
} from './dto/session.dto';
import { EventSession, type SessionStatus } from './entities/event-session.entity';
import { FIELDS_WITH_RULES, sessionRuleErrors, type SessionShape } from './session-rules';
import { nextStatus, SESSION_TRANSITIONS, type SessionAction } from './session-status';
import { SessionErrors } from './sessions.errors';

const ORDER_COLUMNS = { start_time: 's.startTime', title: 's.title', created_at: 's.createdAt' };
const DAY_MS = 86_400_000;
const OVERLAP_CONSTRAINT = 'ex_sessions_room_overlap';
const SEATS_CONSTRAINT = 'chk_sessions_seats';

type SessionWithRoom = EventSession & { room: Room };

@Injectable()
export class SessionsService {
  constructor(
    @InjectRepository(EventSession) private readonly sessions: Repository<EventSession>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly rooms: RoomsService,
    private readonly roomAssignments: RoomAssignmentsService,
    private readonly events: DomainEvents,
  ) {}

  async list(eventId: string, query: SessionListQueryDto, request: FastifyRequest): Promise<Page<SessionDto>> {
    assertEventFilter(query.event, eventId);
    const qb = this.filtered(eventId, query);
    if (query.room) qb.andWhere('s.room_id = :room', { room: query.room });
    return pageOf(qb, orderingOf(query.ordering, ORDER_COLUMNS, ['s.startTime', 'ASC']), query, request, (rows) =>
      rows.map((s) => SessionDto.from(s as SessionWithRoom)),
    );
  }

  /** `GET /api/rooms/{id}/sessions/`: a room of another event is a 404, like the room itself. */
  async listForRoom(
    eventId: string,
    roomId: string,
    query: RoomSessionListQueryDto,
    request: FastifyRequest,
  ): Promise<Page<SessionDto>> {
    const room = await this.rooms.getInEvent(eventId, roomId);
    const qb = this.filtered(eventId, query).andWhere('s.room_id = :room', { room: room.id });
    return pageOf(qb, ['s.startTime', 'ASC'], query, request, (rows) =>
      rows.map((s) => SessionDto.from(s as SessionWithRoom)),
    );
  }

  /** Which of these ids are not sessions of the event (body fields naming sessions are checked with it). */
  notInEvent(eventId: string, ids: string[]): Promise<string[]> {
    return idsNotInEvent(this.sessions, eventId, ids);
  }

  async get(eventId: string, id: string): Promise<SessionDto> {
    const s = await this.withRoom(eventId).andWhere('s.id = :id', { id }).getOne();
    if (!s) throw notFound('Session');
    return SessionDto.from(s as SessionWithRoom);
  }

  async create(eventId: string, dto: CreateSessionDto): Promise<SessionDto> {
    const values = {
      eventId,
      roomId: dto.room_id,
      title: dto.title.trim(),
      description: dto.description ?? '',
      startTime: dto.start_time,
      endTime: dto.end_time,
      speakerName: dto.speaker_name ?? '',
      speakerTitle: dto.speaker_title ?? '',
      speakerBio: dto.speaker_bio ?? '',
      speakerPhotoUrl: dto.speaker_photo_url ?? null,
      theme: dto.theme ?? '',
      sessionType: dto.session_type ?? 'conference',
      isPaid: dto.is_paid ?? false,
      price: dto.price ?? null,
      capacity: dto.capacity ?? null,
      youtubeLiveUrl: dto.youtube_live_url ?? null,
      coverImageUrl: dto.cover_image_url ?? null,
      metadata: dto.metadata ?? {},
    };
    assertRules(values);
    await this.assertRoomOfEvent(eventId, dto.room_id);
    // No overlap check beforehand: the exclusion constraint decides, so two concurrent creates cannot both win.
    const created = await mapConstraints(() => retryOnDeadlock(() => this.sessions.save(this.sessions.create(values))));
    return this.changed(eventId, created.id, 'created');
  }

  /**
   * PATCH and PUT: the fields sent replace the stored ones; the rules are checked on the merged session. With `action`
   * (the socket's `sessionUpdate` with fields and an action; the caller must be allowed both, as an organisateur is),
   * the status changes in the same transaction: a refused action (INVALID_TRANSITION) leaves the fields unchanged too.
   */
  async update(eventId: string, id: string, dto: UpdateSessionDto, action?: SessionAction): Promise<SessionDto> {
    if (dto.room_id !== undefined) {
      // A session of another event is a 404 whatever the body says, so its existence is checked before the room.
      // Both before the transaction: checking inside it would hold one pooled connection while waiting for another.
      if (!(await this.sessions.existsBy({ id, eventId }))) throw notFound('Session');
      await this.assertRoomOfEvent(eventId, dto.room_id);
    }
    const patch: Partial<EventSession> = {
      roomId: dto.room_id,
      title: dto.title?.trim(),
      description: dto.description,
      startTime: dto.start_time,
      endTime: dto.end_time,
      speakerName: dto.speaker_name,
      speakerTitle: dto.speaker_title,
      speakerBio: dto.speaker_bio,
      speakerPhotoUrl: dto.speaker_photo_url,
      theme: dto.theme,
      sessionType: dto.session_type,
      isPaid: dto.is_paid,
      price: dto.price,
      capacity: dto.capacity,
      youtubeLiveUrl: dto.youtube_live_url,
      coverImageUrl: dto.cover_image_url,
      metadata: dto.metadata,
    };
    // Making a session free without naming a price clears the price, rather than refusing the stale one.
    if (dto.is_paid === false && dto.price === undefined) patch.price = null;
    const changes = Object.fromEntries(
      Object.entries(patch).filter(([, v]) => v !== undefined),
    ) as Partial<EventSession>;
    const fields = Object.keys(changes);
    if (!action && fields.length > 0 && !fields.some((f) => FIELDS_WITH_RULES.has(f))) {
      // Texts, links, metadata: no rule reads them, so one UPDATE (one round trip, no lock held across several) is the
      // whole change. A title fix reaches live programme screens that much sooner.
      const result = await this.sessions.update({ id, eventId }, changes as QueryDeepPartialEntity<EventSession>);
      if (!result.affected) throw notFound('Session');
      return this.changed(eventId, id, 'updated');
    }
    await mapConstraints(() =>
      retryOnDeadlock(() =>
        this.dataSource.transaction(async (manager) => {
          // The row lock keeps two concurrent PATCHes from each passing the rules against the other's old values.
          const current = await manager.findOne(EventSession, {
            where: { id, eventId },
            lock: { mode: 'pessimistic_write' },
          });
          if (!current) throw notFound('Session');
          if (action) {
            const status = nextStatus(current.status, action);
            if (!status) throw invalidTransition(current.status, action);
            changes.status = status;
          }
          Object.assign(current, changes);
          assertRules(current);
          if ((changes.capacity !== undefined || changes.roomId !== undefined) && current.capacity === null) {
            // Without its own capacity an atelier has its room's seats (the CHECK cannot see them): dropping the
            // capacity or moving to a smaller room may not leave fewer seats than are granted either.
            const rooms: { capacity: number }[] = await manager.query('SELECT capacity FROM rooms WHERE id = $1', [
              current.roomId,
            ]);
            if ((rooms[0]?.capacity ?? 0) < current.seatsTaken) throw capacityBelowSeats();
          }
          // The fields sent, in one UPDATE: `save` read the row again first (live programme screens wait for this
          // answer's broadcast). An empty body writes nothing; a field sent with its current value is written (and
          // updated_at moves), where `save` skipped it.
          if (Object.keys(changes).length > 0)
            await manager.update(EventSession, { id, eventId }, changes as QueryDeepPartialEntity<EventSession>);
        }),
      ),
    );
    return this.changed(eventId, id, action ? 'status' : 'updated');
  }

  /**
   * Deletes the session; its attendance records go with it (a trigger), each first copied to the attendance audit
   * log, as a removal by the caller ('Session deleted'), in the same statement.
   */
  async remove(eventId: string, id: string, caller: AuthContext): Promise<void> {
    const gone: { id: string }[] = await this.dataSource.query(
      `WITH gone AS (DELETE FROM sessions WHERE id = $1 AND event_id = $2 RETURNING id),
            removed AS (DELETE FROM attendances WHERE event_id = $2 AND session_id IN (SELECT id FROM gone)
                        RETURNING id, event_id, participant_id, session_id, method, attended_at, marked_by_id),
            audited AS (INSERT INTO attendance_removals (event_id, attendance_id, participant_id, session_id, method,
                                                        attended_at, marked_by_id, removed_by_id, reason)
                        SELECT event_id, id, participant_id, session_id, method, attended_at, marked_by_id, $3,
                               'Session deleted'
                          FROM removed)
       SELECT id FROM gone`,
      [id, eventId, caller.userId],
    );
    if (gone.length === 0) throw notFound('Session');
    void this.events.publish('session.changed', { eventId, sessionId: id, action: 'deleted', session: null });
  }

  /** The session as it now is, also told to the rest of the server (live programme screens). */
  private async changed(eventId: string, id: string, action: 'created' | 'updated' | 'status'): Promise<SessionDto> {
    const session = await this.get(eventId, id);
    void this.events.publish('session.changed', { eventId, sessionId: id, action, session });
    return session;
  }

  /**
   * One conditional UPDATE: the status changes only if it still is one of the allowed sources, so of concurrent
   * transitions exactly one wins and the others see INVALID_TRANSITION. A refused caller changes nothing.
   */
  async transition(eventId: string, id: string, action: SessionAction, caller: AuthContext): Promise<SessionDto> {
    if (caller.role !== 'organisateur') await this.assertManagesRoomOf(eventId, id, caller.userId);
    const rule = SESSION_TRANSITIONS[action];
    const result = await this.sessions
      .createQueryBuilder()
      .update(EventSession)
      .set({ status: rule.to, updatedAt: () => 'now()' })
      .where('id = :id AND event_id = :eventId AND status IN (:...from)', { id, eventId, from: [...rule.from] })
      .execute();
    if (!result.affected) {
      const current = await this.sessions.findOneBy({ id, eventId });
      if (!current) throw notFound('Session');
      throw invalidTransition(current.status, action);
    }
    return this.changed(eventId, id, 'status');
  }

  /**
   * "gestionnaire of the room": a gestionnaire with shifts may change only sessions of a room they manage now; one
   * without any shift is not restricted to rooms (the same rule as the door, PRODUCT.md rule 1).
   */
  private async assertManagesRoomOf(eventId: string, sessionId: string, userId: string): Promise<void> {
    const session = await this.sessions.findOneBy({ id: sessionId, eventId });
    if (!session) throw notFound('Session');
    if (!(await this.roomAssignments.hasAnyShift(eventId, userId))) return;
    if (!(await this.roomAssignments.managesRoomNow(eventId, userId, session.roomId, new Date()))) {
      throw forbidden('You do not manage the room of this session now');
    }
  }

  private withRoom(eventId: string): SelectQueryBuilder<EventSession> {
    return this.sessions
      .createQueryBuilder('s')
      .innerJoinAndSelect('s.room', 'r')
      .where('s.event_id = :eventId', { eventId });
  }

  private filtered(eventId: string, query: RoomSessionListQueryDto): SelectQueryBuilder<EventSession> {
    const qb = this.withRoom(eventId);
    if (query.status) qb.andWhere('s.status = :status', { status: query.status });
    if (query.session_type) qb.andWhere('s.session_type = :type', { type: query.session_type });
    if (query.date) {
      const dayStart = new Date(`${query.date}T00:00:00.000Z`);
      qb.andWhere('s.start_time < :dayEnd AND s.end_time > :dayStart', {
        dayStart,
        dayEnd: new Date(dayStart.getTime() + DAY_MS),
      });
    }
    if (query.search) {
      qb.andWhere('(s.title ILIKE :s OR s.speaker_name ILIKE :s)', { s: `%${escapeLike(query.search)}%` });
    }
    return qb;
  }

  /** `room_id` is body input: a room of another event (or none) is a 400 naming the field, not a 404 of the route. */
  private async assertRoomOfEvent(eventId: string, roomId: string): Promise<void> {
    try {
      await this.rooms.getInEvent(eventId, roomId);
    } catch (error) {
      if (error instanceof AppException && error.getStatus() === (HttpStatus.NOT_FOUND as number)) {
        throw validationFailed({ room_id: ['Must be a room of this event'] });
      }
      throw error;
    }
  }
}

function assertRules(s: SessionShape): void {
  const errors = sessionRuleErrors(s);
  if (Object.keys(errors).length > 0) throw validationFailed(errors);
}

/**
 * Constraint violations that are the client's conflict: another non-cancelled session of the room overlaps (the
 * exclusion constraint), or a capacity below the atelier seats already granted (the CHECK on seats_taken).
 */
async function mapConstraints<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const violation = constraintViolation(error);
    if (violation?.kind === 'exclusion' && violation.constraint === OVERLAP_CONSTRAINT) {
      throw conflict(SessionErrors.SESSION_OVERLAP, 'Another session of this room overlaps this time slot');
    }
    if (violation?.kind === 'check' && violation.constraint === SEATS_CONSTRAINT) throw capacityBelowSeats();
    throw error;
  }
}

function invalidTransition(from: SessionStatus, action: SessionAction): AppException {
  return conflict(
    SessionErrors.INVALID_TRANSITION,
    `A ${from} session cannot be moved to ${SESSION_TRANSITIONS[action].to}`,
  );
}

function capacityBelowSeats(): AppException {
  return conflict(SessionErrors.CAPACITY_BELOW_SEATS, 'The capacity cannot be lower than the seats already granted');
}
