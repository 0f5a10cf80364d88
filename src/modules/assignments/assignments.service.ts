import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import type { FastifyRequest } from 'fastify';
import { DataSource, In, type EntityManager, type Repository } from 'typeorm';
import type { AuthContext } from '../../common/auth/auth-context';
import { assertEventFilter } from '../../common/auth/event-scope';
import type { EventRole } from '../../common/auth/event-role';
import { AppException, conflict, notFound } from '../../common/errors/app.exception';
import { constraintViolation } from '../../common/errors/database-errors';
import { escapeLike, orderingOf, type Page, pageOf } from '../../common/pagination/pagination';
import { UsersService } from '../users/users.service';
import { AssignmentErrors } from './assignments.errors';
import {
  AssignmentDto,
  type AssignmentListQueryDto,
  type CreateAssignmentDto,
  type UpdateAssignmentDto,
} from './dto/assignment.dto';
import { UserEventAssignment } from './entities/user-event-assignment.entity';

const ORDER_COLUMNS = {
  assigned_at: 'a.assignedAt',
  role: 'a.role',
  email: 'u.email',
  last_name: 'u.lastName',
};

export interface RoleCounts {
  participants: number;
  exhibitors: number;
}

@Injectable()
export class AssignmentsService {
  constructor(
    @InjectRepository(UserEventAssignment) private readonly assignments: Repository<UserEventAssignment>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly users: UsersService,
  ) {}

  /** Active memberships of a user, oldest first. */
  activeMemberships(userId: string): Promise<UserEventAssignment[]> {
    return this.assignments.find({ where: { userId, isActive: true }, order: { assignedAt: 'ASC' } });
  }

  async activeRole(userId: string, eventId: string): Promise<EventRole | null> {
    const a = await this.assignments.findOneBy({ userId, eventId, isActive: true });
    return a?.role ?? null;
  }

  async isOrganizerAnywhere(userId: string): Promise<boolean> {
    return this.assignments.existsBy({ userId, role: 'organisateur', isActive: true });
  }

  /** Adds a user to an event; a second assignment of the same user is a 409, also under concurrent requests. */
  async assign(
    eventId: string,
    userId: string,
    role: EventRole,
    assignedById: string | null,
    manager?: EntityManager,
    isActive = true,
  ): Promise<UserEventAssignment> {
    const repo = manager ? manager.getRepository(UserEventAssignment) : this.assignments;
    try {
      const result = await repo.insert({ eventId, userId, role, isActive, assignedById });
      return repo.findOneByOrFail({ id: result.identifiers[0]?.id as string });
    } catch (error) {
      if (constraintViolation(error)?.kind === 'unique') {
        throw conflict(AssignmentErrors.ASSIGNMENT_EXISTS, 'This user already has a role in this event');
      }
      throw error;
    }
  }

  async countsByEvent(eventIds: string[]): Promise<Map<string, RoleCounts>> {
    const counts = new Map<string, RoleCounts>(eventIds.map((id) => [id, { participants: 0, exhibitors: 0 }]));
    if (eventIds.length === 0) return counts;
    const rows: { event_id: string; role: EventRole; n: string }[] = await this.assignments
      .createQueryBuilder('a')
      .select('a.event_id', 'event_id')
      .addSelect('a.role', 'role')
      .addSelect('count(*)', 'n')
      .where({ eventId: In(eventIds), isActive: true, role: In(['participant', 'exposant']) })
      .groupBy('a.event_id')
      .addGroupBy('a.role')
      .getRawMany();
    for (const row of rows) {
      const c = counts.get(row.event_id) as RoleCounts;
      if (row.role === 'participant') c.participants = Number(row.n);
      else c.exhibitors = Number(row.n);
    }
    return counts;
  }

  async isMember(eventId: string, userId: string): Promise<boolean> {
    return this.assignments.existsBy({ eventId, userId, isActive: true });
  }

  // ---- /api/user-assignments/ -------------------------------------------------------------------------------------

  async list(eventId: string, query: AssignmentListQueryDto, request: FastifyRequest): Promise<Page<AssignmentDto>> {
    assertEventFilter(query.event, eventId);
    const qb = this.assignments
      .createQueryBuilder('a')
      .innerJoinAndMapOne('a.user', 'users', 'u', 'u.id = a.user_id')
      .where('a.event_id = :eventId', { eventId });
    if (query.role) qb.andWhere('a.role = :role', { role: query.role });
    if (query.is_active !== undefined) qb.andWhere('a.is_active = :active', { active: query.is_active });
    if (query.search) {
      qb.andWhere(`(u.email ILIKE :s OR (u.first_name || ' ' || u.last_name) ILIKE :s)`, {
        s: `%${escapeLike(query.search)}%`,
      });
    }
    return pageOf(qb, orderingOf(query.ordering, ORDER_COLUMNS, ['a.assignedAt', 'ASC']), query, request, (rows) =>
      rows.map((a) => AssignmentDto.from(a as UserEventAssignment & { user: never })),
    );
  }

  async get(eventId: string, id: string): Promise<AssignmentDto> {
    const a = await this.assignments
      .createQueryBuilder('a')
      .innerJoinAndMapOne('a.user', 'users', 'u', 'u.id = a.user_id')
      .where('a.id = :id AND a.event_id = :eventId', { id, eventId })
      .getOne();
    if (!a) throw notFound('Assignment');
    return AssignmentDto.from(a as UserEventAssignment & { user: never });
  }

  async create(eventId: string, dto: CreateAssignmentDto, caller: AuthContext): Promise<AssignmentDto> {
    const user =
      dto.user_id !== undefined
        ? await this.users.getById(dto.user_id)
        : await this.users.findOrCreateByEmail({
            email: dto.email as string,
            firstName: dto.first_name,
            lastName: dto.last_name,
          });
    const created = await this.assign(eventId, user.id, dto.role, caller.userId, undefined, dto.is_active ?? true);
    return this.get(eventId, created.id);
  }

  /**
   * Role and activity changes. Changes of one event are serialized (see `lockedForChange`), so two organizers
   * demoting each other at the same moment cannot leave the event without one.
   */
  async update(eventId: string, id: string, dto: UpdateAssignmentDto, caller: AuthContext): Promise<AssignmentDto> {
    await this.dataSource.transaction(async (manager) => {
      const current = await this.lockedForChange(manager, eventId, id);
      const role = dto.role ?? current.role;
      const isActive = dto.is_active ?? current.isActive;
      if (current.userId === caller.userId && (role !== current.role || isActive !== current.isActive)) {
        throw new AppException(HttpStatus.FORBIDDEN, AssignmentErrors.OWN_ROLE, 'You cannot change your own role');
      }
      const losesOrganizer =
        current.role === 'organisateur' && current.isActive && (role !== 'organisateur' || !isActive);
      if (losesOrganizer) await this.assertAnotherOrganizer(manager, eventId, id);
      await manager.update(UserEventAssignment, { id }, { role, isActive, updatedAt: new Date() });
    });
    return this.get(eventId, id);
  }

  async remove(eventId: string, id: string, caller: AuthContext): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const current = await this.lockedForChange(manager, eventId, id);
      if (current.userId === caller.userId) {
        throw new AppException(HttpStatus.FORBIDDEN, AssignmentErrors.OWN_ROLE, 'You cannot remove your own role');
      }
      if (current.role === 'organisateur' && current.isActive) await this.assertAnotherOrganizer(manager, eventId, id);
      await manager.delete(UserEventAssignment, { id });
    });
  }

  private async lockedForChange(manager: EntityManager, eventId: string, id: string): Promise<UserEventAssignment> {
    // One role change at a time per event: a transaction-scoped advisory lock (two-int form, its own key space) taken
    // before anything else. Locking the event's organizer rows `ORDER BY id FOR UPDATE` instead deadlocked under
    // concurrent demotions: such a SELECT keeps the lock on a row that a concurrent update made fail its WHERE, so
    // an older scan could hold the demoted row and wait for the survivor while a newer one held them the other way.
    // A hash collision between two events only serializes them, it never lets two changes of one event interleave.
    await manager.query(`SELECT pg_advisory_xact_lock(hashtext('user_event_assignments'), hashtext($1))`, [eventId]);
    const current = await manager.findOne(UserEventAssignment, {
      where: { id, eventId },
      lock: { mode: 'pessimistic_write' },
    });
    if (!current) throw notFound('Assignment');
    return current;
  }

  private async assertAnotherOrganizer(manager: EntityManager, eventId: string, exceptId: string): Promise<void> {
    const others = await manager
      .createQueryBuilder(UserEventAssignment, 'a')
      .where(`a.event_id = :eventId AND a.role = 'organisateur' AND a.is_active AND a.id <> :exceptId`, {
        eventId,
        exceptId,
      })
      .getCount();
    if (others === 0) {
      throw conflict(AssignmentErrors.LAST_ORGANIZER, 'The last organisateur of an event cannot be removed or demoted');
    }
  }
}
