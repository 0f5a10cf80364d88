import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyRequest } from 'fastify';
import { DataSource, type EntityManager, type SelectQueryBuilder } from 'typeorm';
import { assertEventFilter } from '../../common/auth/event-scope';
import { AppException, conflict, notFound, validationFailed } from '../../common/errors/app.exception';
import { constraintViolation } from '../../common/errors/database-errors';
import { orderingOf, type Page, pageOf } from '../../common/pagination/pagination';
import { Participant } from '../participants/entities/participant.entity';
import { ParticipantsService } from '../participants/participants.service';
import { Room } from '../rooms/entities/room.entity';
import { EventSession } from '../sessions/entities/event-session.entity';
import { SessionsService } from '../sessions/sessions.service';
import { User } from '../users/entities/user.entity';
import { fullName } from '../users/users.service';
import type {
  CreateSessionAccessDto,
  MyAtelierDto,
  MyAteliersQueryDto,
  SessionAccessDto,
  SessionAccessListQueryDto,
  UpdateSessionAccessDto,
} from './dto/session-access.dto';
import { ACCESS_STATUSES, SEAT_STATUSES, SessionAccess, type PaymentStatus } from './entities/session-access.entity';
import { SessionAccessErrors } from './session-access.errors';

const ORDER_COLUMNS = { created_at: 'sa.createdAt', paid_at: 'sa.paidAt' };
const UNIQUE = 'uq_session_access_event_session_participant';

type Row = SessionAccess & { participant: Participant & { user: User }; session: EventSession & { room: Room } };

const holdsSeat = (status: PaymentStatus): boolean => SEAT_STATUSES.includes(status);

/**
 * Takes one seat of an atelier if one is free: a conditional UPDATE on the session row, so that concurrent grants
 * queue on that row and each re-checks the count it finds (never count-then-insert). The limit is the atelier's own
 * capacity, else its room's. `$1` session, `$2` event.
 */
export const TAKE_SEAT = `UPDATE sessions s SET seats_taken = s.seats_taken + 1
                     FROM rooms r
                    WHERE s.id = $1 AND s.event_id = $2 AND r.id = s.room_id
                      AND s.seats_taken < coalesce(s.capacity, r.capacity)
                RETURNING s.id`;
const FREE_SEAT = `UPDATE sessions SET seats_taken = seats_taken - 1 WHERE id = $1 AND event_id = $2 AND seats_taken > 0`;

/** Paid (and free) atelier rights, with the seats of each atelier counted on its session row. */
@Injectable()
export class SessionAccessService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly participants: ParticipantsService,
    private readonly sessions: SessionsService,
  ) {}

  async list(
    eventId: string,
    query: SessionAccessListQueryDto,
    request: FastifyRequest,
  ): Promise<Page<SessionAccessDto>> {
    assertEventFilter(query.event, eventId);
    const qb = this.joined(eventId);
    if (query.session) qb.andWhere('sa.session_id = :session', { session: query.session });
    if (query.participant) qb.andWhere('sa.participant_id = :participant', { participant: query.participant });
    if (query.payment_status) qb.andWhere('sa.payment_status = :ps', { ps: query.payment_status });
    if (query.has_access !== undefined) {
      qb.andWhere(`sa.payment_status ${query.has_access ? '' : 'NOT '}IN (:...access)`, { access: ACCESS_STATUSES });
    }
    return pageOf(qb, orderingOf(query.ordering, ORDER_COLUMNS, ['sa.createdAt', 'ASC']), query, request, (rows) =>
      rows.map((r) => toDto(r as Row)),
    );
  }

  async get(eventId: string, id: string): Promise<SessionAccessDto> {
    return toDto(await this.row(eventId, id));
  }

  /**
   * Grants access. Seat and row are written by one statement: if the row cannot be inserted (already granted), the
   * seat taken for it is given back with it; if no seat is free, nothing is inserted (409 ATELIER_FULL).
   */
  async create(eventId: string, dto: CreateSessionAccessDto): Promise<SessionAccessDto> {
    await this.assertTargets(eventId, dto.participant_id, dto.session_id);
    const paidAt = dto.payment_status === 'paid' ? new Date() : null;
    const values = [dto.session_id, eventId, dto.participant_id, dto.payment_status, dto.amount_paid ?? null, paidAt];
    const insert = `INSERT INTO session_access (event_id, participant_id, session_id, payment_status, amount_paid, paid_at)`;
    const rows: { id: string }[] = await this.mapUnique(() =>
      holdsSeat(dto.payment_status)
        ? this.dataSource.query(
            `WITH seat AS (${TAKE_SEAT}) ${insert} SELECT $2, $3, seat.id, $4, $5, $6 FROM seat RETURNING id`,
            values,
          )
        : this.dataSource.query(`${insert} VALUES ($2, $3, $1, $4, $5, $6) RETURNING id`, values),
    );
    const id = rows[0]?.id;
    if (!id) throw this.full();
    return this.get(eventId, id);
  }

  /** A change of payment status takes or gives back a seat in the same transaction (refunded → paid needs one). */
  async update(eventId: string, id: string, dto: UpdateSessionAccessDto): Promise<SessionAccessDto> {
    await this.dataSource.transaction(async (manager) => {
      const current = await manager.findOne(SessionAccess, {
        where: { id, eventId },
        lock: { mode: 'pessimistic_write' },
      });
      if (!current) throw notFound('Session access');
      const status = dto.payment_status ?? current.paymentStatus;
      if (!holdsSeat(current.paymentStatus) && holdsSeat(status)) await this.takeSeat(manager, current);
      if (holdsSeat(current.paymentStatus) && !holdsSeat(status)) {
        await manager.query(FREE_SEAT, [current.sessionId, eventId]);
      }
      await manager.update(
        SessionAccess,
        { id },
        {
          paymentStatus: status,
          amountPaid: dto.amount_paid === undefined ? current.amountPaid : dto.amount_paid,
          // The first time it becomes paid; a later refund keeps when it was paid.
          paidAt: status === 'paid' && current.paidAt === null ? new Date() : current.paidAt,
          updatedAt: new Date(),
        },
      );
    });
    return this.get(eventId, id);
  }

  /**
   * Deleting a row that held a seat frees it, in the same statement: the trigger `trg_session_access_free_seat` does
   * it for every deletion, also the cascades of a participant leaving the event.
   */
  async remove(eventId: string, id: string): Promise<void> {
    // A SELECT around the DELETE so that the driver returns plain rows.
    const rows: { id: string }[] = await this.dataSource.query(
      'WITH gone AS (DELETE FROM session_access WHERE id = $1 AND event_id = $2 RETURNING id) SELECT id FROM gone',
      [id, eventId],
    );
    if (rows.length === 0) throw notFound('Session access');
  }

  /** `GET /api/my-ateliers/`: the ateliers the caller may enter (paid or free), by start time. */
  async mine(
    eventId: string,
    userId: string,
    query: MyAteliersQueryDto,
    request: FastifyRequest,
  ): Promise<Page<MyAtelierDto>> {
    const participantId = (await this.participants.idOfUser(eventId, userId)) ?? '00000000-0000-0000-0000-000000000000';
    const qb = this.joined(eventId)
      .andWhere('sa.participant_id = :participantId', { participantId })
      .andWhere('sa.payment_status IN (:...access)', { access: ACCESS_STATUSES });
    return pageOf(qb, ['s.startTime', 'ASC'], query, request, (rows) =>
      rows.map((r) => {
        const row = r as Row;
        return {
          ...toDto(row),
          start_time: row.session.startTime,
          end_time: row.session.endTime,
          room: row.session.roomId,
          room_name: row.session.room.name,
          session_status: row.session.status,
        };
      }),
    );
  }

  // ---- helpers ----------------------------------------------------------------------------------------------------

  private async takeSeat(manager: EntityManager, access: SessionAccess): Promise<void> {
    // A SELECT around the UPDATE so that the driver returns plain rows.
    const taken: unknown[] = await manager.query(`WITH seat AS (${TAKE_SEAT}) SELECT id FROM seat`, [
      access.sessionId,
      access.eventId,
    ]);
    if (taken.length === 0) throw this.full();
  }

  /** Body ids that are not a badge / an atelier of the event are a 400 naming the field. */
  private async assertTargets(eventId: string, participantId: string, sessionId: string): Promise<void> {
    if (!(await this.participants.exists(eventId, participantId))) {
      throw validationFailed({ participant_id: ['Must be a participant (badge) of this event'] });
    }
    let sessionType: string;
    try {
      sessionType = (await this.sessions.get(eventId, sessionId)).session_type;
    } catch (error) {
      if (error instanceof AppException && error.getStatus() === (HttpStatus.NOT_FOUND as number)) {
        throw validationFailed({ session_id: ['Must be a session of this event'] });
      }
      throw error;
    }
    if (sessionType !== 'atelier') throw validationFailed({ session_id: ['Must be an atelier'] });
  }

  private joined(eventId: string): SelectQueryBuilder<SessionAccess> {
    return this.dataSource
      .getRepository(SessionAccess)
      .createQueryBuilder('sa')
      .innerJoinAndMapOne('sa.participant', Participant, 'p', 'p.id = sa.participant_id')
      .innerJoinAndMapOne('p.user', User, 'u', 'u.id = p.user_id')
      .innerJoinAndMapOne('sa.session', EventSession, 's', 's.id = sa.session_id')
      .innerJoinAndMapOne('s.room', Room, 'r', 'r.id = s.room_id')
      .where('sa.event_id = :eventId', { eventId });
  }

  private async row(eventId: string, id: string): Promise<Row> {
    const row = (await this.joined(eventId).andWhere('sa.id = :id', { id }).getOne()) as Row | null;
    if (!row) throw notFound('Session access');
    return row;
  }

  private async mapUnique<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      const violation = constraintViolation(error);
      if (violation?.kind === 'unique' && violation.constraint === UNIQUE) {
        throw conflict(SessionAccessErrors.ACCESS_EXISTS, 'This participant already has access to this session');
      }
      throw error;
    }
  }

  private full(): AppException {
    return conflict(SessionAccessErrors.ATELIER_FULL, 'Every seat of this atelier is taken');
  }
}

function toDto(r: Row): SessionAccessDto {
  return {
    id: r.id,
    participant: r.participantId,
    participant_name: fullName(r.participant.user),
    session: r.sessionId,
    session_title: r.session.title,
    has_access: ACCESS_STATUSES.includes(r.paymentStatus),
    payment_status: r.paymentStatus,
    amount_paid: r.amountPaid,
    paid_at: r.paidAt,
    created_at: r.createdAt,
  };
}
