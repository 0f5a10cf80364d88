import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import type { FastifyRequest } from 'fastify';
import { DataSource, type Repository, type SelectQueryBuilder } from 'typeorm';
import type { AuthContext } from '../../common/auth/auth-context';
import { assertEventFilter } from '../../common/auth/event-scope';
import { AppException, notFound, validationFailed, type FieldErrors } from '../../common/errors/app.exception';
import { constraintViolation } from '../../common/errors/database-errors';
import { escapeLike, orderingOf, type Page, pageOf } from '../../common/pagination/pagination';
import { AssignmentsService } from '../assignments/assignments.service';
import { RoomsService } from '../rooms/rooms.service';
import {
  RoomAssignmentDto,
  type CreateRoomAssignmentDto,
  type MyRoomAssignmentsQueryDto,
  type RoomAssignmentListQueryDto,
  type RoomAssignmentWithNames,
  type UpdateRoomAssignmentDto,
} from './dto/room-assignment.dto';
import { RoomAssignment } from './entities/room-assignment.entity';
import { RoomAssignmentMessages } from './room-assignments.errors';

const ORDER_COLUMNS = { start_time: 'ra.startTime', created_at: 'ra.createdAt' };
const TIMES_CHECK = 'chk_room_assignments_times';

@Injectable()
export class RoomAssignmentsService {
  constructor(
    @InjectRepository(RoomAssignment) private readonly shifts: Repository<RoomAssignment>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly rooms: RoomsService,
    private readonly assignments: AssignmentsService,
  ) {}

  // ---- used by other modules ---------------------------------------------------------------------------------------

  /** Active shifts of a room covering `at` (start inclusive, end exclusive), by start time, with user and room names. */
  async activeStaff(eventId: string, roomId: string, at: Date): Promise<RoomAssignmentDto[]> {
    const rows = await this.covering(this.withNames(eventId), at)
      .andWhere('ra.room_id = :roomId AND ra.is_active', { roomId })
      .orderBy('ra.startTime', 'ASC')
      .addOrderBy('ra.id', 'ASC')
      .getMany();
    return rows.map((a) => RoomAssignmentDto.from(a as RoomAssignmentWithNames));
  }

  /** Whether the user has an active gestionnaire shift on this room covering `at`. */
  managesRoomNow(eventId: string, userId: string, roomId: string, at: Date): Promise<boolean> {
    return this.covering(this.shifts.createQueryBuilder('ra').where('ra.event_id = :eventId', { eventId }), at)
      .andWhere(`ra.user_id = :userId AND ra.room_id = :roomId AND ra.is_active`, { userId, roomId })
      .andWhere(`ra.role = 'gestionnaire_des_salles'`)
      .getExists();
  }

  /**
   * Whether the user has any active shift in the event, at any time. Staff without shifts are not restricted to
   * rooms (PRODUCT.md, door rule 1); a deactivated shift does not restrict anyone.
   */
  hasAnyShift(eventId: string, userId: string): Promise<boolean> {
    return this.shifts.existsBy({ eventId, userId, isActive: true });
  }

  /**
   * The rooms a staff member works in from `at` on (active shifts not yet over), or null when they have no shift at
   * all (then they are not restricted to rooms).
   */
  async roomsFrom(eventId: string, userId: string, at: Date): Promise<string[] | null> {
    if (!(await this.hasAnyShift(eventId, userId))) return null;
    const rows: { room_id: string }[] = await this.shifts
      .createQueryBuilder('ra')
      .select('DISTINCT ra.room_id', 'room_id')
      .where('ra.event_id = :eventId AND ra.user_id = :userId AND ra.is_active AND ra.end_time > :at', {
        eventId,
        userId,
        at,
      })
      .getRawMany();
    return rows.map((r) => r.room_id);
  }

  // ---- /api/room-assignments/ --------------------------------------------------------------------------------------

  async list(
    eventId: string,
    query: RoomAssignmentListQueryDto,
    request: FastifyRequest,
  ): Promise<Page<RoomAssignmentDto>> {
    assertEventFilter(query.event, eventId);
    const qb = this.withNames(eventId);
    if (query.room) qb.andWhere('ra.room_id = :room', { room: query.room });
    if (query.user) qb.andWhere('ra.user_id = :user', { user: query.user });
    if (query.role) qb.andWhere('ra.role = :role', { role: query.role });
    if (query.is_active !== undefined) qb.andWhere('ra.is_active = :active', { active: query.is_active });
    if (query.active_at) this.covering(qb, query.active_at);
    if (query.search) {
      qb.andWhere(`(u.email ILIKE :s OR (u.first_name || ' ' || u.last_name) ILIKE :s OR r.name ILIKE :s)`, {
        s: `%${escapeLike(query.search)}%`,
      });
    }
    return pageOf(qb, orderingOf(query.ordering, ORDER_COLUMNS, ['ra.startTime', 'ASC']), query, request, (rows) =>
      rows.map((a) => RoomAssignmentDto.from(a as RoomAssignmentWithNames)),
    );
  }

  /** `mine/`: the caller's own shifts in the token's event. */
  mine(
    eventId: string,
    caller: AuthContext,
    query: MyRoomAssignmentsQueryDto,
    request: FastifyRequest,
  ): Promise<Page<RoomAssignmentDto>> {
    const qb = this.withNames(eventId).andWhere('ra.user_id = :userId', { userId: caller.userId });
    return pageOf(qb, ['ra.startTime', 'ASC'], query, request, (rows) =>
      rows.map((a) => RoomAssignmentDto.from(a as RoomAssignmentWithNames)),
    );
  }

  async get(eventId: string, id: string): Promise<RoomAssignmentDto> {
    const a = await this.withNames(eventId).andWhere('ra.id = :id', { id }).getOne();
    if (!a) throw notFound('Room assignment');
    return RoomAssignmentDto.from(a as RoomAssignmentWithNames);
  }

  async create(eventId: string, dto: CreateRoomAssignmentDto, caller: AuthContext): Promise<RoomAssignmentDto> {
    await this.assertRefs(eventId, dto);
    assertTimes(dto.start_time, dto.end_time);
    const result = await mapTimes(() =>
      this.shifts.insert({
        eventId,
        roomId: dto.room_id,
        userId: dto.user_id,
        role: dto.role,
        startTime: dto.start_time,
        endTime: dto.end_time,
        isActive: dto.is_active ?? true,
        assignedById: caller.userId,
      }),
    );
    return this.get(eventId, result.identifiers[0]?.id as string);
  }

  /**
   * PATCH and PUT. The user, role and room are checked when sent (so a stale shift can still be deactivated after
   * the user's role changed); the times always, on the merged shift.
   */
  async update(eventId: string, id: string, dto: UpdateRoomAssignmentDto): Promise<RoomAssignmentDto> {
    // References are checked before the transaction: checking inside it would hold one pooled connection while
    // waiting for another. A shift of another event is a 404 whatever the body says.
    const before = await this.shifts.findOneBy({ id, eventId });
    if (!before) throw notFound('Room assignment');
    const refs = {
      user_id: dto.user_id ?? before.userId,
      room_id: dto.room_id ?? before.roomId,
      role: dto.role ?? before.role,
    };
    await this.assertRefs(eventId, refs, {
      member: dto.user_id !== undefined || dto.role !== undefined,
      room: dto.room_id !== undefined,
    });
    await mapTimes(() =>
      this.dataSource.transaction(async (manager) => {
        // The row lock keeps two concurrent PATCHes from each passing the time rule against the other's old values.
        const current = await manager.findOne(RoomAssignment, {
          where: { id, eventId },
          lock: { mode: 'pessimistic_write' },
        });
        if (!current) throw notFound('Room assignment');
        const startTime = dto.start_time ?? current.startTime;
        const endTime = dto.end_time ?? current.endTime;
        assertTimes(startTime, endTime);
        await manager.update(
          RoomAssignment,
          { id },
          {
            // The fields sent; the others as the locked row has them (a concurrent PATCH may have changed them since
            // `before` was read: writing `before`'s values back would undo it).
            userId: dto.user_id ?? current.userId,
            roomId: dto.room_id ?? current.roomId,
            role: dto.role ?? current.role,
            startTime,
            endTime,
            isActive: dto.is_active ?? current.isActive,
            updatedAt: new Date(),
          },
        );
      }),
    );
    return this.get(eventId, id);
  }

  async remove(eventId: string, id: string): Promise<void> {
    const result = await this.shifts.delete({ id, eventId });
    if (!result.affected) throw notFound('Room assignment');
  }

  /** Room of the event, and a user whose active role in the event is the shift's role: both body input, so 400s. */
  private async assertRefs(
    eventId: string,
    dto: Pick<CreateRoomAssignmentDto, 'user_id' | 'room_id' | 'role'>,
    check = { member: true, room: true },
  ): Promise<void> {
    const errors: FieldErrors = {};
    if (check.room && !(await this.roomInEvent(eventId, dto.room_id))) {
      errors.room_id = [RoomAssignmentMessages.ROOM_NOT_IN_EVENT];
    }
    if (check.member) {
      const role = await this.assignments.activeRole(dto.user_id, eventId);
      if (role === null) errors.user_id = [RoomAssignmentMessages.USER_NOT_IN_EVENT];
      else if (role !== dto.role) errors.role = [`${RoomAssignmentMessages.ROLE_MISMATCH} (${role})`];
    }
    if (Object.keys(errors).length > 0) throw validationFailed(errors);
  }

  private async roomInEvent(eventId: string, roomId: string): Promise<boolean> {
    try {
      await this.rooms.getInEvent(eventId, roomId);
      return true;
    } catch (error) {
      if (error instanceof AppException && error.getStatus() === (HttpStatus.NOT_FOUND as number)) return false;
      throw error;
    }
  }

  private withNames(eventId: string): SelectQueryBuilder<RoomAssignment> {
    return this.shifts
      .createQueryBuilder('ra')
      .innerJoinAndMapOne('ra.user', 'users', 'u', 'u.id = ra.user_id')
      .innerJoinAndMapOne('ra.room', 'rooms', 'r', 'r.id = ra.room_id')
      .where('ra.event_id = :eventId', { eventId });
  }

  private covering(qb: SelectQueryBuilder<RoomAssignment>, at: Date): SelectQueryBuilder<RoomAssignment> {
    return qb.andWhere('ra.start_time <= :at AND ra.end_time > :at', { at });
  }
}

function assertTimes(start: Date, end: Date): void {
  if (end.getTime() <= start.getTime()) throw validationFailed({ end_time: [RoomAssignmentMessages.END_BEFORE_START] });
}

/** The CHECK constraint is the last word on the times (e.g. the times of a concurrent PATCH): still a 400. */
async function mapTimes<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const violation = constraintViolation(error);
    if (violation?.kind === 'check' && violation.constraint === TIMES_CHECK) {
      throw validationFailed({ end_time: [RoomAssignmentMessages.END_BEFORE_START] });
    }
    throw error;
  }
}
