import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import type { FastifyRequest } from 'fastify';
import { DataSource, In, type EntityManager, type Repository } from 'typeorm';
import type { AuthContext } from '../../common/auth/auth-context';
import { assertEventFilter } from '../../common/auth/event-scope';
import type { EventRole } from '../../common/auth/event-role';
import { DomainEvents } from '../../common/events/domain-events';
import { AppException, conflict, notFound } from '../../common/errors/app.exception';
import { constraintViolation } from '../../common/errors/database-errors';
import { escapeLike, orderingOf, type Page, pageOf } from '../../common/pagination/pagination';
import { FilesService } from '../files/files.service';
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

/**
 * Called inside the transaction that creates a membership or changes its role: how another module (badges) reacts
 * to memberships without this module depending on it.
 */
export type MembershipListener = (manager: EntityManager, assignment: UserEventAssignment) => Promise<void>;

export interface RoleCounts {
  participants: number;
  exhibitors: number;
}

@Injectable()
export class AssignmentsService {
  private readonly listeners: MembershipListener[] = [];
  private readonly removalListeners: MembershipListener[] = [];

  constructor(
    @InjectRepository(UserEventAssignment) private readonly assignments: Repository<UserEventAssignment>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly users: UsersService,
    private readonly events: DomainEvents,
    private readonly files: FilesService,
  ) {}

  onMembershipChange(listener: MembershipListener): void {
    this.listeners.push(listener);
  }

  /** Called inside the transaction where an organisateur removes a membership (`DELETE /api/user-assignments/{id}/`). */
  onMembershipRemoved(listener: MembershipListener): void {
    this.removalListeners.push(listener);
  }

  /** Active memberships of a user, oldest first. */
  activeMemberships(userId: string): Promise<UserEventAssignment[]> {
    return this.assignments.find({ where: { userId, isActive: true }, order: { assignedAt: 'ASC' } });
  }

  /** The user's membership of the event (active or not), or null. */
  membership(eventId: string, userId: string, manager?: EntityManager): Promise<UserEventAssignment | null> {
    const repo = manager ? manager.getRepository(UserEventAssignment) : this.assignments;
    return repo.findOneBy({ eventId, userId });
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
    if (!manager) {
      return this.dataSource.transaction((m) => this.assign(eventId, userId, role, assignedById, m, isActive));
    }
    const repo = manager.getRepository(UserEventAssignment);
    try {
      const result = await repo.insert({ eventId, userId, role, isActive, assignedById });
      const created = await repo.findOneByOrFail({ id: result.identifiers[0]?.id as string });
      await this.notify(manager, created);
      return created;
    } catch (error) {
      if (constraintViolation(error)?.kind === 'unique') {
        throw conflict(AssignmentErrors.ASSIGNMENT_EXISTS, 'This user already has a role in this event');
      }
      throw error;
    }
  }

  /**
   * Bulk form of `assign` for imports: adds the users who have no role in the event yet (insert-or-ignore, so
   * concurrent imports add each person once) and sets the role of those who have one, except organisateurs (demoting
   * them goes through `update` and its last-organizer rule). Membership listeners are not called: the importer issues
   * badges itself, in bulk. Returns who was added, whose role changed, and everyone's role afterwards.
   */
  async importMembers(
    manager: EntityManager,
    eventId: string,
    rows: { userId: string; role: EventRole | null }[],
    assignedById: string,
  ): Promise<{ added: Set<string>; changed: Set<string>; roles: Map<string, EventRole> }> {
    const userIds = rows.map((r) => r.userId);
    const inserted: { user_id: string }[] = await manager.query(
      `INSERT INTO user_event_assignments (event_id, user_id, role, assigned_by_id)
       SELECT $1, r.u, coalesce(r.role, 'participant'), $4 FROM unnest($2::uuid[], $3::text[]) AS r(u, role)
       ON CONFLICT (event_id, user_id) DO NOTHING RETURNING user_id`,
      [eventId, userIds, rows.map((r) => r.role), assignedById],
    );
    const added = new Set(inserted.map((r) => r.user_id));
    const changes = rows.filter((r) => r.role !== null && !added.has(r.userId));
    const changed = new Set<string>();
    if (changes.length > 0) {
      const [updated]: [{ user_id: string }[], number] = await manager.query(
        `UPDATE user_event_assignments a SET role = r.role, updated_at = now()
           FROM unnest($2::uuid[], $3::text[]) AS r(u, role)
          WHERE a.event_id = $1 AND a.user_id = r.u AND a.role <> r.role AND a.role <> 'organisateur'
          RETURNING a.user_id`,
        [eventId, changes.map((r) => r.userId), changes.map((r) => r.role)],
      );
      for (const row of updated) changed.add(row.user_id);
    }
    const current: { user_id: string; role: EventRole }[] = await manager.query(
      'SELECT user_id, role FROM user_event_assignments WHERE event_id = $1 AND user_id = ANY($2::uuid[])',
      [eventId, userIds],
    );
    return { added, changed, roles: new Map(current.map((r) => [r.user_id, r.role])) };
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

  /**
   * Removes the user's membership if it still has this role (any other role, e.g. one an organisateur gave since, is
   * kept), with what cascades from it (the badge). The caller publishes `membership.changed` after its commit.
   */
  async removeRole(manager: EntityManager, eventId: string, userId: string, role: EventRole): Promise<boolean> {
    const result = await manager.delete(UserEventAssignment, { eventId, userId, role });
    return (result.affected ?? 0) > 0;
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
    const user = await this.users.resolveReference(dto);
    const created = await this.assign(eventId, user.id, dto.role, caller.userId, undefined, dto.is_active ?? true);
    return this.get(eventId, created.id);
  }

  /**
   * Role and activity changes. Changes of one event are serialized (see `lockedForChange`), so two organizers
   * demoting each other at the same moment cannot leave the event without one.
   */
  async update(eventId: string, id: string, dto: UpdateAssignmentDto, caller: AuthContext): Promise<AssignmentDto> {
    const changed = await this.dataSource.transaction(async (manager) => {
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
      if (role !== current.role) await this.notify(manager, { ...current, role, isActive });
      return role !== current.role || isActive !== current.isActive
        ? { userId: current.userId, role: isActive ? role : null }
        : null;
    });
    // After the commit: live connections of the member re-authenticate with what is now true.
    if (changed) await this.events.publish('membership.changed', { eventId, ...changed });
    return this.get(eventId, id);
  }

  async remove(eventId: string, id: string, caller: AuthContext): Promise<void> {
    const { userId, planFile } = await this.dataSource.transaction(async (manager) => {
      // The event row first, as a cancelling registrant takes it before their membership: the removal listeners
      // (registrations) need it, and taking it after the membership row could deadlock with such a cancellation.
      await manager.query('SELECT id FROM events WHERE id = $1 FOR NO KEY UPDATE', [eventId]);
      const current = await this.lockedForChange(manager, eventId, id);
      if (current.userId === caller.userId) {
        throw new AppException(HttpStatus.FORBIDDEN, AssignmentErrors.OWN_ROLE, 'You cannot remove your own role');
      }
      if (current.role === 'organisateur' && current.isActive) await this.assertAnotherOrganizer(manager, eventId, id);
      // The badge goes with the membership (a cascade), and its exhibitor plan with it: its name is read first.
      const badges: { plan_file: string | null }[] = await manager.query(
        'SELECT plan_file FROM participants WHERE event_id = $1 AND user_id = $2',
        [eventId, current.userId],
      );
      await manager.delete(UserEventAssignment, { id });
      for (const listener of this.removalListeners) await listener(manager, current);
      return { userId: current.userId, planFile: badges[0]?.plan_file ?? null };
    });
    // After the commit: the file of a badge that is gone.
    await this.files.remove(eventId, planFile);
    await this.events.publish('membership.changed', { eventId, userId, role: null });
  }

  private async notify(manager: EntityManager, assignment: UserEventAssignment): Promise<void> {
    for (const listener of this.listeners) await listener(manager, assignment);
  }

  private async lockedForChange(manager: EntityManager, eventId: string, id: string): Promise<UserEventAssignment> {
    // One role change at a time per event: a transaction-scoped advisory lock (two-int form, its own key space) taken
    // before the membership row (only `remove` takes the event row earlier still, for its listeners; a listener of
    // `update` that needs the event row would have to do the same). Locking the event's organizer rows `ORDER BY id FOR UPDATE` instead deadlocked under
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
